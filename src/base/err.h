/* err.h: the one error enum every fallible Calendox function returns.
 * 0 is success; results travel through out-parameters. Only http/ maps these to status codes. */
#ifndef CX_BASE_ERR_H
#define CX_BASE_ERR_H

enum cx_err {
	CX_OK = 0,
	CX_EINVAL,     /* bad input from a caller or a client */
	CX_ENOTFOUND,  /* no such thing (or not the caller's) */
	CX_ECONFLICT,  /* already exists, state does not allow it */
	CX_EUPSTREAM,  /* a provider answered with an error or garbage */
	CX_ETIMEOUT,   /* a deadline passed */
	CX_ETOOBIG,    /* a bound was exceeded */
	CX_EDB,        /* the store failed */
	CX_EAUTH,      /* not authenticated, bad credentials, bad signature */
	CX_EFORBIDDEN, /* authenticated but not allowed */
	CX_EIO,        /* file, socket or system call failed */
	CX_EBUSY,      /* try again later (locked, rate limited, queue full) */
	CX_ECRYPTO,    /* decryption or verification failed */
};

/* A short lower-case name for logs, e.g. "einval". Never NULL. */
const char *cx_strerror(enum cx_err err);

#endif
