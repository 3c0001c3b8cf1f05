/* log.c: one line per event, key=value, serialised by one lock. Each line is built in a local
 * buffer first so the lock is held only for the write itself. */
#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/time.h"
#include "base/banned.h"

#define LOG_LINE_MAX 4096
#define LOG_MSG_MAX 1024
#define LOG_RID_MAX 64

/* Set at start-up before threads exist, read-only afterwards. */
static enum log_level min_level = LOG_LEVEL_INFO;
static FILE *log_stream; /* NULL means stderr */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

/* The calling thread's context, carried by every line it logs. */
static _Thread_local char ctx_request_id[LOG_RID_MAX];
static _Thread_local int64_t ctx_job_id;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
	min_level = level;
}

void log_set_stream(FILE *stream)
{
	log_stream = stream;
}

int log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (name && strcasecmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_context_set(const char *request_id, int64_t job_id)
{
	size_t i = 0;
	/* The id is echoed from a header; keep only characters that cannot break the line. */
	if (request_id) {
		for (; i < LOG_RID_MAX - 1 && request_id[i]; i++) {
			char c = request_id[i];
			ctx_request_id[i] =
			    (c > ' ' && c < 0x7f && c != '"' && c != '\\') ? c : '_';
		}
	}
	ctx_request_id[i] = '\0';
	ctx_job_id = job_id;
}

char *log_quote(const char *s, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (n < 3) {
		if (n > 0)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		char esc[4];
		size_t elen;
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			elen = 2;
		} else if (*p == '\n') {
			esc[0] = '\\';
			esc[1] = 'n';
			elen = 2;
		} else if (*p == '\r') {
			esc[0] = '\\';
			esc[1] = 'r';
			elen = 2;
		} else if (*p == '\t') {
			esc[0] = '\\';
			esc[1] = 't';
			elen = 2;
		} else if (*p < 0x20 || *p == 0x7f) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[*p >> 4];
			esc[3] = hex[*p & 15];
			elen = 4;
		} else {
			esc[0] = (char)*p;
			elen = 1;
		}
		/* Room for the escape, the closing quote and the NUL; never split an escape. */
		if (o + elen + 2 > n)
			break;
		memcpy(out + o, esc, elen);
		o += elen;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

static bool is_secret_param(const char *key, size_t len)
{
	static const char *const secret_keys[] = {
	    "code",          "access_token", "refresh_token", "token", "client_secret",
	    "code_verifier", "password",     "pwd",           "state", "id_token",
	};
	for (size_t i = 0; i < sizeof(secret_keys) / sizeof(secret_keys[0]); i++) {
		if (strlen(secret_keys[i]) == len && strncasecmp(key, secret_keys[i], len) == 0)
			return true;
	}
	return false;
}

/* Appends len bytes to out at *o, keeping room for the NUL; stops silently when full. */
static void put(char *out, size_t n, size_t *o, const char *s, size_t len)
{
	if (*o + 1 >= n)
		return;
	size_t room = n - 1 - *o;
	if (len > room)
		len = room;
	memcpy(out + *o, s, len);
	*o += len;
}

char *log_redact_url(const char *url, char *out, size_t n)
{
	static const char redacted[] = "REDACTED";
	size_t o = 0;
	if (n == 0)
		return out;
	if (!url)
		url = "";
	const char *p = url;

	/* A password in the authority ("postgresql://user:secret@host") is a secret too. */
	const char *scheme_end = strstr(p, "://");
	if (scheme_end) {
		const char *auth = scheme_end + 3;
		size_t auth_len = strcspn(auth, "/?#");
		const char *at = memchr(auth, '@', auth_len);
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon) {
			put(out, n, &o, p, (size_t)(colon + 1 - p));
			put(out, n, &o, redacted, sizeof(redacted) - 1);
			p = at;
		}
	}

	size_t head = strcspn(p, "?#");
	put(out, n, &o, p, head);
	p += head;
	/* The query and the fragment (implicit-flow tokens) are both key=value lists. */
	while (*p) {
		put(out, n, &o, p, 1); /* '?', '#' or '&' */
		p++;
		size_t plen = strcspn(p, "&#");
		size_t klen = strcspn(p, "=&#");
		if (klen < plen && is_secret_param(p, klen)) {
			put(out, n, &o, p, klen + 1);
			put(out, n, &o, redacted, sizeof(redacted) - 1);
		} else {
			put(out, n, &o, p, plen);
		}
		p += plen;
	}
	out[o] = '\0';
	return out;
}

void log_write(enum log_level level, const char *msg, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	char quoted[LOG_MSG_MAX];
	char ts[32];
	size_t len = 0;

	if (level < min_level)
		return;
	if ((unsigned)level > LOG_LEVEL_ERROR)
		level = LOG_LEVEL_ERROR;
	if (!time_format_rfc3339_ms(time_wall_ms(), ts, sizeof(ts)))
		ts[0] = '\0';
	int r = snprintf(line, sizeof(line), "ts=%s level=%s", ts, level_names[level]);
	len = r > 0 ? (size_t)r : 0;
	if (ctx_request_id[0] && len < sizeof(line)) {
		r = snprintf(line + len, sizeof(line) - len, " rid=%s", ctx_request_id);
		len += r > 0 ? (size_t)r : 0;
	}
	if (ctx_job_id && len < sizeof(line)) {
		r = snprintf(line + len, sizeof(line) - len, " job=%lld", (long long)ctx_job_id);
		len += r > 0 ? (size_t)r : 0;
	}
	if (len < sizeof(line)) {
		r = snprintf(line + len, sizeof(line) - len, " msg=%s",
		             log_quote(msg, quoted, sizeof(quoted)));
		len += r > 0 ? (size_t)r : 0;
	}
	if (fmt && *fmt && len + 1 < sizeof(line)) {
		va_list ap;
		va_start(ap, fmt);
		r = vsnprintf(line + len + 1, sizeof(line) - len - 1, fmt, ap);
		va_end(ap);
		/* No separator when the pairs came out empty ("%s" with ""). */
		if (r > 0) {
			line[len] = ' ';
			len += 1 + (size_t)r;
		}
	}
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	/* A value that slipped through unquoted must not split the event over two lines. */
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	}
	line[len++] = '\n';
	line[len] = '\0';

	pthread_mutex_lock(&write_lock);
	FILE *f = log_stream ? log_stream : stderr;
	fwrite(line, 1, len, f);
	fflush(f);
	pthread_mutex_unlock(&write_lock);
}
