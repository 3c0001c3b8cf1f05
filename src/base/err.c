/* err.c: names for the error enum, for logs. */
#include "base/err.h"

#include "base/banned.h"

const char *cx_strerror(enum cx_err err)
{
	switch (err) {
	case CX_OK:
		return "ok";
	case CX_EINVAL:
		return "einval";
	case CX_ENOTFOUND:
		return "enotfound";
	case CX_ECONFLICT:
		return "econflict";
	case CX_EUPSTREAM:
		return "eupstream";
	case CX_ETIMEOUT:
		return "etimeout";
	case CX_ETOOBIG:
		return "etoobig";
	case CX_EDB:
		return "edb";
	case CX_EAUTH:
		return "eauth";
	case CX_EFORBIDDEN:
		return "eforbidden";
	case CX_EIO:
		return "eio";
	case CX_EBUSY:
		return "ebusy";
	case CX_ECRYPTO:
		return "ecrypto";
	}
	return "eunknown";
}
