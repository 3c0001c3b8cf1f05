/* request.c: reading a request: headers, query, cookies, route parameters, the body as JSON or
 * as a form. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base/arena.h"
#include "base/json.h"
#include "http/internal.h"

#include "base/banned.h"

const char *http_header(struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->state->conn, MHD_HEADER_KIND, name);
}

const char *http_query_string(struct http_request *req)
{
	const char *q = req->state->raw_query;
	return q ? q : "";
}

void http_on_complete(struct http_request *req, http_complete_fn fn, void *arg)
{
	req->state->on_complete = fn;
	req->state->on_complete_arg = arg;
}

const char *http_query(struct http_request *req, const char *name)
{
	const char *q = req->state->raw_query;
	return q ? http_form_lookup(req->arena, q, strlen(q), name) : NULL;
}

struct cookie_search {
	struct arena *arena;
	const char *name;
	const char *value;
};

static enum MHD_Result find_cookie(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
	struct cookie_search *s = cls;
	if (strcasecmp(key, MHD_HTTP_HEADER_COOKIE) != 0 || !value)
		return MHD_YES;
	s->value = http_cookie_parse(s->arena, value, s->name);
	return s->value ? MHD_NO : MHD_YES;
}

/* Clients send one Cookie header, but HTTP/2 proxies may split it into several; the first
 * occurrence of the name across them wins. */
const char *http_cookie(struct http_request *req, const char *name)
{
	struct cookie_search s = {req->arena, name, NULL};
	MHD_get_connection_values(req->state->conn, MHD_HEADER_KIND, find_cookie, &s);
	return s.value;
}

const char *http_param(struct http_request *req, const char *name)
{
	const struct http_route_match *m = &req->state->match;
	for (size_t i = 0; i < m->n_params; i++)
		if (strcmp(m->names[i], name) == 0)
			return m->values[i];
	return NULL;
}

const char *http_client_ip(struct http_request *req)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(req->state->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char text[INET6_ADDRSTRLEN] = "";
	if (!info || !info->client_addr)
		return arena_strdup(req->arena, "unknown");
	const struct sockaddr *sa = info->client_addr;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
	}
	return arena_strdup(req->arena, text[0] ? text : "unknown");
}

/* "application/json", "Application/JSON; charset=utf-8" yes; "application/jsonx" no. */
static bool is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, sizeof(want) - 1) != 0)
		return false;
	ct += sizeof(want) - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

json_t *http_body_json(struct http_request *req)
{
	json_t *value = NULL;
	char msg[256] = "";
	if (!is_json_type(http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		http_reply_error(req, 415, "unsupported_media_type",
		                 "The request body must be JSON.",
		                 "Send Content-Type: application/json.");
		goto out;
	}
	if (json_parse_strict(req->body ? req->body : "", req->body_len, &value, msg,
	                      sizeof(msg)) != CX_OK) {
		value = NULL;
		http_reply_error(req, 400, "invalid_request",
		                 msg[0] ? msg : "The request body is not valid JSON.", NULL);
		goto out;
	}
out:
	return value;
}

const char *http_form(struct http_request *req, const char *name)
{
	return http_form_lookup(req->arena, req->body, req->body ? req->body_len : 0, name);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Walks "a=1; b=\"2\";; c" pair by pair without ever reading past the terminating NUL. A pair
 * without '=' or with an empty name is malformed and skipped; values may be quoted. */
const char *http_cookie_parse(struct arena *a, const char *header, const char *name)
{
	if (!header || !name || !name[0])
		return NULL;
	size_t name_len = strlen(name);
	const char *p = header;
	while (*p) {
		while (is_space(*p) || *p == ';')
			p++;
		if (!*p)
			break;
		const char *key = p;
		while (*p && *p != '=' && *p != ';')
			p++;
		const char *key_end = p;
		while (key_end > key && is_space(key_end[-1]))
			key_end--;
		if (*p != '=') /* no '=': malformed, p is at ';' or the end */
			continue;
		p++; /* past '=' */
		while (is_space(*p))
			p++;
		const char *val = p;
		while (*p && *p != ';')
			p++;
		const char *val_end = p;
		while (val_end > val && is_space(val_end[-1]))
			val_end--;
		if (val_end - val >= 2 && val[0] == '"' && val_end[-1] == '"') {
			val++;
			val_end--;
		}
		if (key_end > key && (size_t)(key_end - key) == name_len &&
		    memcmp(key, name, name_len) == 0)
			return arena_strndup(a, val, (size_t)(val_end - val));
	}
	return NULL;
}
