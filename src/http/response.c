/* response.c: building and queueing replies, with the headers every response carries. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/arena.h"
#include "base/log.h"
#include "http/internal.h"

#include "base/banned.h"

#define JSON_TYPE "application/json; charset=utf-8"

bool http_has_header(const struct http_request_state *st, const char *name)
{
	for (const struct http_header_line *h = st->headers; h; h = h->next)
		if (strcasecmp(h->name, name) == 0)
			return true;
	return false;
}

void http_add_header(struct http_request *req, const char *name, const char *value)
{
	struct http_request_state *st = req->state;
	struct http_header_line *h = arena_alloc(req->arena, sizeof(*h));
	h->name = arena_strdup(req->arena, name);
	h->value = arena_strdup(req->arena, value);
	if (st->headers_tail)
		st->headers_tail->next = h;
	else
		st->headers = h;
	st->headers_tail = h;
}

static void add(struct http_request_state *st, struct MHD_Response *r, const char *name,
                const char *value)
{
	if (MHD_add_response_header(r, name, value) != MHD_YES)
		log_warn("response header refused", "rid=%s header=%s", st->req.request_id, name);
}

static void add_default(struct http_request_state *st, struct MHD_Response *r, const char *name,
                        const char *value)
{
	if (!http_has_header(st, name))
		add(st, r, name, value);
}

/* Every response goes through here, so the security headers, the request id and the cache policy
 * cannot be forgotten by a handler. A header the handler set itself wins over our default. */
void http_queue_response(struct http_request_state *st, int status, struct MHD_Response *r,
                         size_t bytes, const char *cache_control)
{
	for (const struct http_header_line *h = st->headers; h; h = h->next) {
		if (strcasecmp(h->name, "X-Request-Id") == 0)
			continue;
		add(st, r, h->name, h->value);
	}
	add(st, r, "X-Request-Id", st->req.request_id);
	add_default(st, r, "X-Content-Type-Options", "nosniff");
	add_default(st, r, "Referrer-Policy", "no-referrer");
	add_default(st, r, "X-Frame-Options", "DENY");
	add_default(st, r, "Content-Security-Policy", st->srv->csp);
	add_default(st, r, "Cache-Control", cache_control ? cache_control : "no-store");

	st->replied = true;
	st->status = status;
	st->response_bytes = bytes;
	if (st->dropped) {
		st->close_now = true;
		goto out;
	}
	if (MHD_queue_response(st->conn, (unsigned int)status, r) != MHD_YES) {
		log_error("queueing the response failed", "rid=%s status=%d", st->req.request_id,
		          status);
		st->close_now = true;
	}
out:
	MHD_destroy_response(r);
}

static bool already_replied(struct http_request *req)
{
	if (!req->state->replied)
		return false;
	log_error("handler replied twice", "rid=%s route=%s", req->request_id,
	          req->route ? req->route : "none");
	return true;
}

void http_reply(struct http_request *req, int status, const char *content_type, const void *body,
                size_t len)
{
	if (already_replied(req))
		return;
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)(len ? body : ""), MHD_RESPMEM_MUST_COPY);
	if (content_type && !http_has_header(req->state, MHD_HTTP_HEADER_CONTENT_TYPE))
		add(req->state, r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	http_queue_response(req->state, status, r, len, NULL);
}

void http_reply_json(struct http_request *req, int status, json_t *body_take)
{
	if (!body_take) {
		/* json_pack() returns NULL on a bad format or out-of-memory: a bug, not the
		 * client's. */
		log_error("reply body missing", "rid=%s route=%s", req->request_id,
		          req->route ? req->route : "none");
		http_reply_error(req, 500, "internal_error", "Something went wrong on our side.",
		                 NULL);
		return;
	}
	char *text = json_dumps(body_take, JSON_COMPACT);
	json_decref(body_take);
	if (!text) {
		http_reply_error(req, 500, "internal_error", "Something went wrong on our side.",
		                 NULL);
		return;
	}
	http_reply(req, status, JSON_TYPE, text, strlen(text));
	free(text);
}

static char *error_body(const char *code, const char *message, const char *hint)
{
	json_t *inner = json_object();
	json_object_set_new(inner, "code", json_string(code ? code : "internal_error"));
	json_object_set_new(inner, "message", json_string(message ? message : ""));
	if (hint)
		json_object_set_new(inner, "hint", json_string(hint));
	json_t *outer = json_object();
	json_object_set_new(outer, "error", inner);
	char *text = json_dumps(outer, JSON_COMPACT);
	json_decref(outer);
	return text;
}

void http_reply_error(struct http_request *req, int status, const char *code, const char *message,
                      const char *hint)
{
	char *text = error_body(code, message, hint);
	const char *body =
	    text ? text : "{\"error\":{\"code\":\"internal_error\",\"message\":\"\"}}";
	http_reply(req, status, JSON_TYPE, body, strlen(body));
	free(text);
}

void http_reply_error_close(struct http_request *req, int status, const char *code,
                            const char *message)
{
	http_add_header(req, MHD_HTTP_HEADER_CONNECTION, "close");
	http_reply_error(req, status, code, message, NULL);
}

void http_reply_empty(struct http_request *req, int status)
{
	http_reply(req, status, NULL, "", 0);
}

void http_reply_redirect(struct http_request *req, int status, const char *location)
{
	http_add_header(req, MHD_HTTP_HEADER_LOCATION, location);
	http_reply(req, status, NULL, "", 0);
}

bool http_replied(const struct http_request *req)
{
	return req->state->replied;
}

void http_abort(struct http_request *req)
{
	req->state->replied = true;
	req->state->close_now = true;
	req->state->status = 0;
}

void http_drop_response(struct http_request *req)
{
	req->state->dropped = true;
}

/* RFC 6265: a token for the name, cookie-octets for the value. Anything else would let a value
 * smuggle attributes ("; Domain=…") or split the header. */
static bool cookie_text_ok(const char *s, bool is_name)
{
	if (is_name && !*s)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == ';' || *p == ',' || *p == '"' || *p == '\\')
			return false;
		if (is_name && strchr("()<>@:/[]?={}", *p))
			return false;
	}
	return true;
}

void http_set_cookie(struct http_request *req, const char *name, const char *value, long max_age_s,
                     bool secure)
{
	if (!value)
		value = "";
	if (!cookie_text_ok(name, true) || !cookie_text_ok(value, false)) {
		/* The value may be a secret: only the name is logged. */
		log_error("cookie not set: invalid characters", "rid=%s cookie=%s", req->request_id,
		          cookie_text_ok(name, true) ? name : "(invalid)");
		return;
	}
	const char *line;
	if (max_age_s < 0)
		line =
		    arena_printf(req->arena,
		                 "%s=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
		                 "HttpOnly; SameSite=Lax%s",
		                 name, secure ? "; Secure" : "");
	else
		line =
		    arena_printf(req->arena, "%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Lax%s",
		                 name, value, max_age_s, secure ? "; Secure" : "");
	http_add_header(req, MHD_HTTP_HEADER_SET_COOKIE, line);
}

int http_status_for(enum cx_err err)
{
	switch (err) {
	case CX_OK:
		return 200;
	case CX_EINVAL:
		return 400;
	case CX_ENOTFOUND:
		return 404;
	case CX_ECONFLICT:
		return 409;
	case CX_EAUTH:
		return 401;
	case CX_EFORBIDDEN:
		return 403;
	case CX_ETOOBIG:
		return 413;
	case CX_ETIMEOUT:
		return 504;
	case CX_EUPSTREAM:
		return 502;
	case CX_EBUSY:
		return 503;
	default:
		return 500;
	}
}
