/* tokens.h: provider tokens sealed at rest (DESIGN §3): {"access_token","refresh_token"} as JSON,
 * sealed with XChaCha20-Poly1305 under the instance key, with "<kind>:<row id>" as associated data
 * so that a sealed value copied into another row does not open. Pure functions, thread-safe. */
#ifndef CX_CORE_TOKENS_H
#define CX_CORE_TOKENS_H

#include <stdint.h>

#include "base/crypto.h"
#include "base/err.h"

/* refresh_token may be NULL. Caller frees *out with free(). */
enum cx_err tokens_seal(const uint8_t key[SEC_KEY_BYTES], const char *kind, int64_t id,
			const char *access_token, const char *refresh_token, char **out);
/* CX_ECRYPTO when the box does not open (other key, other row, tampered). refresh_token may be NULL
 * (not wanted). The caller wipes (sec_wipe) and frees what it gets. */
enum cx_err tokens_open(const uint8_t key[SEC_KEY_BYTES], const char *kind, int64_t id,
			const char *sealed, char **access_token, char **refresh_token);

#endif
