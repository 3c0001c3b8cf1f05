/* health.c: liveness, readiness and Prometheus metrics. */
#include <stdio.h>

#include "api/api.h"
#include "base/buf.h"

#include "base/banned.h"

void api_healthz(struct http_request *req)
{
	http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

void api_readyz(struct http_request *req)
{
	struct app *app = req->app;
	int64_t one = 0;
	enum cx_err err = store_query_int(store_conn(app->store), "SELECT 1", NULL, 0, &one);
	if (err || one != 1) {
		http_reply_error(req, 503, "not_ready", "The store is not answering.", NULL);
		return;
	}
	http_reply_json(req, 200, json_pack("{s:s}", "status", "ready"));
}

void api_metrics(struct http_request *req)
{
	struct app *app = req->app;
	struct buf out;
	buf_init(&out, 4 << 20);
	if (app->http)
		http_server_metrics(app->http, &out);
	int64_t counts[4] = {0};
	if (job_count_by_state(store_conn(app->store), counts) == CX_OK) {
		buf_puts(&out, "# HELP calendox_jobs Jobs in the store by state.\n"
			       "# TYPE calendox_jobs gauge\n");
		for (int s = JOB_QUEUED; s <= JOB_FAILED; s++)
			buf_printf(&out, "calendox_jobs{state=\"%s\"} %lld\n",
				   job_state_name((enum job_state)s), (long long)counts[s]);
	}
	http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data ? out.data : "",
		   out.len);
	buf_release(&out);
}
