/* sandbox.h: `calendox sandbox`, the Zoom, Google Calendar and Microsoft Graph emulators on loopback
 * (DESIGN §7). It uses src/base, src/http and src/egress only, never the product's API or store. */
#ifndef CX_SANDBOX_SANDBOX_H
#define CX_SANDBOX_SANDBOX_H

/* Parses the sandbox's options (--host, --port, --seed, --zoom-webhook-url, --help), serves until
 * SIGINT/SIGTERM, returns the process exit code. */
int sandbox_main(int argc, char **argv);

#endif
