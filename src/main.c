/* main.c: process setup, configuration, signals, thread start and stop, and the subcommands
 * (serve, migrate, admin, sandbox). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/config.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/time.h"
#include "egress/egress.h"
#include "http/http.h"
#include "jobs/jobs.h"
#include "jobs/kinds.h"
#include "jobs/tokens.h"
#include "sandbox.h"
#include "store/accounts.h"
#include "store/store.h"

#include "base/banned.h"

static const char usage[] =
	"Calendox " CALENDOX_VERSION " — a self-hosted unified calendar with meeting links.\n"
	"\n"
	"Usage:\n"
	"  calendox serve [--config FILE]      serve the API and the web app (migrates first)\n"
	"  calendox migrate [--config FILE]    apply pending store migrations and exit\n"
	"  calendox admin plan EMAIL PLAN [--config FILE]\n"
	"                                      set a person's plan (free, trial, basic, standard,\n"
	"                                      premium)\n"
	"  calendox sandbox [--port N] [--host H] [--seed N] [--zoom-webhook-url URL]\n"
	"                                      emulate Zoom, Google and Microsoft on loopback\n"
	"  calendox --help | --version\n"
	"\n"
	"Configuration comes from CALENDOX_* environment variables or a --config file of KEY=value\n"
	"lines; see README.md. The most used: CALENDOX_LISTEN (127.0.0.1:8080), CALENDOX_DATABASE\n"
	"(sqlite:calendox.db), CALENDOX_SECRET_KEY_FILE, CALENDOX_SANDBOX (http://127.0.0.1:9100).\n";

/* Finds "--config FILE" among args; NULL when absent. Other arguments are left to the caller. */
static const char *config_arg(int argc, char **argv)
{
	for (int i = 0; i < argc - 1; i++) {
		if (strcmp(argv[i], "--config") == 0)
			return argv[i + 1];
	}
	return NULL;
}

static int load(int argc, char **argv, struct config *cfg)
{
	char err[512];
	if (sec_init() != CX_OK) {
		fprintf(stderr, "calendox: libsodium failed to initialise\n");
		return 1;
	}
	if (config_load(cfg, config_arg(argc, argv), NULL, err, sizeof(err)) != CX_OK) {
		fprintf(stderr, "calendox: configuration: %s\n", err);
		return 1;
	}
	enum log_level level;
	if (log_level_parse(cfg->log_level, &level) == 0)
		log_set_level(level);
	return 0;
}

static int open_store(const struct config *cfg, struct store **st)
{
	enum cx_err err = store_open(cfg->database, st);
	if (err) {
		fprintf(stderr, "calendox: cannot open the store '%s': %s\n", cfg->database,
			cx_strerror(err));
		return 1;
	}
	err = store_migrate(*st);
	if (err) {
		fprintf(stderr, "calendox: migrating the store failed: %s\n", cx_strerror(err));
		store_close(*st);
		return 1;
	}
	return 0;
}

static int cmd_migrate(int argc, char **argv)
{
	struct config cfg;
	struct store *st;
	if (load(argc, argv, &cfg))
		return 1;
	int rc = open_store(&cfg, &st);
	if (rc == 0) {
		int version = 0;
		store_schema_version(st, &version);
		printf("store %s migrated to version %d\n", store_backend(st), version);
		store_thread_done(st);
		store_close(st);
	}
	config_release(&cfg);
	return rc;
}

static int cmd_admin(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[1], "plan") != 0) {
		fprintf(stderr, "usage: calendox admin plan EMAIL PLAN [--config FILE]\n");
		return 2;
	}
	enum plan plan;
	if (plan_parse(argv[3], &plan) != CX_OK) {
		fprintf(stderr, "calendox: unknown plan '%s' (free, trial, basic, standard, premium)\n",
			argv[3]);
		return 2;
	}
	struct config cfg;
	struct store *st;
	if (load(argc, argv, &cfg))
		return 1;
	if (open_store(&cfg, &st)) {
		config_release(&cfg);
		return 1;
	}
	struct app app = {.cfg = &cfg, .store = st};
	struct store_user user = {0};
	int rc = 1;
	enum cx_err err = store_user_by_email(store_conn(st), argv[2], &user);
	if (err == CX_ENOTFOUND) {
		fprintf(stderr, "calendox: no account with the email '%s'\n", argv[2]);
		goto out;
	}
	if (!err)
		err = api_set_plan(&app, user.id, plan, time_wall_s());
	if (err) {
		fprintf(stderr, "calendox: changing the plan failed: %s\n", cx_strerror(err));
		goto out;
	}
	printf("%s is now on the %s plan\n", user.email, plan_name(plan));
	rc = 0;
out:
	store_user_release(&user);
	store_thread_done(st);
	store_close(st);
	config_release(&cfg);
	return rc;
}

/* The queue's notifications (the listener's thread): a new job somewhere, or the end of one a
 * handler here may wait on. */
static void on_job_note(void *arg, const char *payload)
{
	job_runner_notified(arg, payload);
}

static int cmd_serve(int argc, char **argv)
{
	struct config cfg;
	struct store *st = NULL;
	struct job_runner *runner = NULL;
	struct store_listener *listener = NULL;
	struct http_server *srv = NULL;
	struct egress *egress = NULL;
	struct token_refresher *tokens = NULL;
	int rc = 1;

	/* Signals are taken by sigwait() in this thread only: every thread started below inherits the
	 * blocked mask. */
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (load(argc, argv, &cfg))
		return 1;
	if (open_store(&cfg, &st))
		goto out;
	enum cx_err err = egress_start(cfg.egress_concurrency, 4096, &egress);
	if (err) {
		fprintf(stderr, "calendox: starting the egress thread failed: %s\n", cx_strerror(err));
		goto out;
	}
	struct token_refresher_options topts = {.store = st, .cfg = &cfg, .egress = egress};
	err = token_refresher_start(&topts, &tokens);
	if (err) {
		fprintf(stderr, "calendox: starting the token refresher failed: %s\n",
			cx_strerror(err));
		goto out;
	}

	struct app app = {
		.cfg = &cfg,
		.store = st,
		.egress = egress,
		.limits = {.basic_accounts = cfg.plan_basic_accounts,
			   .standard_accounts = cfg.plan_standard_accounts},
	};
	struct job_env env = {.store = st, .cfg = &cfg, .egress = egress, .tokens = tokens};
	struct job_runner_options jopts = {
		.store = st,
		.kinds = job_kinds,
		.n_kinds = job_kinds_count,
		.periodic = job_periodic,
		.n_periodic = job_periodic_count,
		.workers = cfg.job_workers,
		.lease_ms = (int64_t)cfg.job_lease_s * 1000,
		.app = &env,
	};
	err = job_runner_start(&jopts, &runner);
	if (err) {
		fprintf(stderr, "calendox: starting job workers failed: %s\n", cx_strerror(err));
		goto out;
	}
	app.jobs = runner;
	/* Jobs enqueued by other instances wake this one's workers at once (the poll stays), and
	 * jobs they finish answer the requests here that wait on them. */
	err = store_listen(st, JOB_NOTIFY_CHANNEL, on_job_note, runner, &listener);
	if (err)
		log_warn("job notifications unavailable, polling only", "error=%s", cx_strerror(err));

	size_t n_routes;
	const struct http_route *routes = api_routes(&n_routes);
	struct http_server_options hopts = {
		.host = cfg.listen_host,
		.port = cfg.listen_port,
		.threads = cfg.http_threads,
		.max_connections = cfg.max_connections,
		.idle_timeout_s = 30,
		.max_body = 1 << 20,
		.max_header_memory = 64 << 10,
		.routes = routes,
		.n_routes = n_routes,
		.static_root = cfg.web_root,
		.access_log = true,
		.app = &app,
	};
	err = http_server_start(&hopts, &srv);
	if (err) {
		fprintf(stderr, "calendox: cannot listen on %s:%d: %s\n", cfg.listen_host,
			cfg.listen_port, cx_strerror(err));
		goto out;
	}
	app.http = srv;
	log_info("calendox serving", "listen=%s:%d public_url=%s store=%s version=%s",
		 cfg.listen_host, http_server_port(srv), cfg.public_url, store_backend(st),
		 CALENDOX_VERSION);

	int sig = 0;
	while (sigwait(&stop_signals, &sig) != 0)
		;
	log_info("calendox stopping", "signal=%d", sig);
	rc = 0;
out:
	if (srv)
		http_server_stop(srv);
	store_unlisten(listener);
	if (runner)
		job_runner_stop(runner);
	/* The refresher hands work to egress and writes the store: stop it before both. */
	if (tokens)
		token_refresher_stop(tokens);
	if (egress)
		egress_stop(egress);
	if (st) {
		store_thread_done(st);
		store_close(st);
	}
	config_release(&cfg);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("calendox %s\n", CALENDOX_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "migrate") == 0)
		return cmd_migrate(argc - 1, argv + 1);
	if (strcmp(argv[1], "admin") == 0)
		return cmd_admin(argc - 1, argv + 1);
	if (strcmp(argv[1], "sandbox") == 0)
		return sandbox_main(argc - 1, argv + 1);
	fprintf(stderr, "calendox: unknown command '%s'\n\n%s", argv[1], usage);
	return 2;
}
