/* validate.h: validation rules for what people type (emails, passwords, names), shared by the API
 * and the CLI. Pure functions, no I/O. */
#ifndef CX_CORE_VALIDATE_H
#define CX_CORE_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#define VALIDATE_PASSWORD_MIN 10
#define VALIDATE_PASSWORD_MAX 1024
#define VALIDATE_NAME_MAX 200
#define VALIDATE_EMAIL_MAX 254

/* A plausible address: one '@', a local part of 1-64 printable non-space ASCII characters without
 * quotes or angle brackets, a domain of dot-separated labels of letters, digits and hyphens (no
 * leading or trailing hyphen) with at least one dot; at most 254 bytes. Writes the lower-cased address
 * into out (size n). */
bool validate_email(const char *email, char *out, size_t n);
/* Counts UTF-8 code points; false for invalid UTF-8. */
bool validate_utf8_length(const char *s, size_t *chars);
/* 10 to 1024 characters of valid UTF-8. */
bool validate_password(const char *password);
/* 1 to 200 characters of valid UTF-8 after trimming spaces, no control characters. */
bool validate_name(const char *name);

#endif
