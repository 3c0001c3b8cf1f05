/* log.h: one log API with levels, one line per event in key=value form (STYLE §9).
 *   ts=2026-11-24T08:00:00.123Z level=info rid=ab12 job=42 msg="request done" status=200
 * A thread may set its context (request id, job id) and every line it logs carries it.
 * Writes are serialised by one lock so lines never interleave. */
#ifndef CX_BASE_LOG_H
#define CX_BASE_LOG_H

#include <stdint.h>
#include <stdio.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Start-up only. Defaults: info, stderr. */
void log_set_level(enum log_level level);
void log_set_stream(FILE *stream);
/* "debug", "info", "warn", "error"; CX_EINVAL otherwise (returns -1 on bad name, 0 on success). */
int log_level_parse(const char *name, enum log_level *out);

/* This thread's context; NULL / 0 clears. The string is copied. */
void log_context_set(const char *request_id, int64_t job_id);

/* msg is written as msg="…" (quoted, escaped); fmt is further key=value pairs, may be NULL.
 * Values the caller passes through fmt must already be safe: use log_quote() for free text. */
void log_write(enum log_level level, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(msg, ...) log_write(LOG_LEVEL_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) log_write(LOG_LEVEL_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_write(LOG_LEVEL_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_write(LOG_LEVEL_ERROR, msg, __VA_ARGS__)

/* Writes s as a double-quoted value with \" \\ and control characters escaped, truncated to fit
 * out (size n, n >= 3). Returns out. */
char *log_quote(const char *s, char *out, size_t n);

/* Copies url into out with the values of query parameters that carry secrets
 * (code, access_token, refresh_token, token, client_secret, code_verifier, password, pwd, state)
 * replaced by "REDACTED". Returns out. */
char *log_redact_url(const char *url, char *out, size_t n);

#endif
