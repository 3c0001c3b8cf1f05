#include "core/validate.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "base/banned.h"

static bool label_ok(const char *s, size_t len)
{
	if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '-')
			return false;
	}
	return true;
}

bool validate_email(const char *email, char *out, size_t n)
{
	size_t len = strlen(email);
	const char *at = strchr(email, '@');
	if (len == 0 || len > VALIDATE_EMAIL_MAX || len + 1 > n || !at || strchr(at + 1, '@'))
		return false;
	size_t local_len = (size_t)(at - email);
	if (local_len == 0 || local_len > 64)
		return false;
	for (size_t i = 0; i < local_len; i++) {
		unsigned char c = (unsigned char)email[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '(' ||
		    c == ')' || c == ',' || c == ';' || c == ':' || c == '\\' || c == '[' || c == ']')
			return false;
	}
	const char *domain = at + 1;
	int labels = 0;
	for (const char *p = domain;;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (!label_ok(p, l))
			return false;
		labels++;
		if (!dot)
			break;
		p = dot + 1;
	}
	if (labels < 2)
		return false;
	for (size_t i = 0; i <= len; i++)
		out[i] = (char)tolower((unsigned char)email[i]);
	return true;
}

bool validate_utf8_length(const char *s, size_t *chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t count = 0;
	while (*p) {
		uint32_t cp;
		int extra;
		if (*p < 0x80) {
			cp = *p;
			extra = 0;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			extra = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			extra = 2;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			extra = 3;
		} else {
			return false;
		}
		p++;
		for (int i = 0; i < extra; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (*p & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
		if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
		    (extra == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		count++;
	}
	*chars = count;
	return true;
}

bool validate_password(const char *password)
{
	size_t chars;
	return validate_utf8_length(password, &chars) && chars >= VALIDATE_PASSWORD_MIN &&
	       chars <= VALIDATE_PASSWORD_MAX;
}

bool validate_name(const char *name)
{
	size_t chars;
	const unsigned char *p = (const unsigned char *)name;
	bool visible = false;
	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (*p != ' ')
			visible = true;
	}
	return visible && validate_utf8_length(name, &chars) && chars <= VALIDATE_NAME_MAX;
}
