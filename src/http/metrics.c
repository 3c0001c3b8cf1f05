/* metrics.c: request counters and latency histograms in Prometheus text format. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "http/internal.h"

#include "base/banned.h"

static const double bounds[HTTP_METRICS_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                    0.5,   1,    2.5,   5,    10};

/* Methods are client-chosen text; only known ones become label values so that a client cannot
 * grow the label set. */
static const char *known_method(const char *method)
{
	static const char *const known[] = {"GET",   "HEAD",   "POST",   "PUT",
	                                    "PATCH", "DELETE", "OPTIONS"};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (method && strcmp(method, known[i]) == 0)
			return known[i];
	return "OTHER";
}

void http_metrics_init(struct http_metrics *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
}

void http_metrics_release(struct http_metrics *m)
{
	for (size_t i = 0; i < m->n_series; i++)
		free(m->series[i].route);
	for (size_t i = 0; i < m->n_histograms; i++)
		free(m->histograms[i].route);
	free(m->series);
	free(m->histograms);
	pthread_mutex_destroy(&m->lock);
	memset(m, 0, sizeof(*m));
}

static struct http_metrics_series *series_for(struct http_metrics *m, const char *route,
                                              const char *method, int status)
{
	for (size_t i = 0; i < m->n_series; i++) {
		struct http_metrics_series *s = &m->series[i];
		if (s->status == status && s->method == method && strcmp(s->route, route) == 0)
			return s;
	}
	if (m->n_series == HTTP_METRICS_MAX_SERIES)
		return NULL;
	m->series = xrealloc(m->series, (m->n_series + 1) * sizeof(*m->series));
	struct http_metrics_series *s = &m->series[m->n_series++];
	s->route = xstrdup(route);
	s->method = method;
	s->status = status;
	s->count = 0;
	return s;
}

static struct http_metrics_histogram *histogram_for(struct http_metrics *m, const char *route)
{
	for (size_t i = 0; i < m->n_histograms; i++)
		if (strcmp(m->histograms[i].route, route) == 0)
			return &m->histograms[i];
	if (m->n_histograms == HTTP_METRICS_MAX_ROUTES)
		return NULL;
	m->histograms = xrealloc(m->histograms, (m->n_histograms + 1) * sizeof(*m->histograms));
	struct http_metrics_histogram *h = &m->histograms[m->n_histograms++];
	memset(h, 0, sizeof(*h));
	h->route = xstrdup(route);
	return h;
}

void http_metrics_observe(struct http_metrics *m, const char *route, const char *method, int status,
                          double seconds)
{
	if (!route)
		route = "none";
	const char *label_method = known_method(method);
	pthread_mutex_lock(&m->lock);
	struct http_metrics_series *s = series_for(m, route, label_method, status);
	if (s)
		s->count++;
	struct http_metrics_histogram *h = histogram_for(m, route);
	if (h) {
		for (size_t i = 0; i < HTTP_METRICS_BUCKETS; i++) {
			if (seconds <= bounds[i]) {
				h->buckets[i]++;
				break;
			}
		}
		h->count++;
		h->sum += seconds;
	}
	pthread_mutex_unlock(&m->lock);
}

/* Label values escaped as the text format wants: backslash, double quote and newline. */
static void put_label(struct buf *out, const char *value)
{
	for (const char *p = value; *p; p++) {
		if (*p == '\\')
			buf_puts(out, "\\\\");
		else if (*p == '"')
			buf_puts(out, "\\\"");
		else if (*p == '\n')
			buf_puts(out, "\\n");
		else
			buf_append(out, p, 1);
	}
}

void http_metrics_render(struct http_metrics *m, struct buf *out)
{
	pthread_mutex_lock(&m->lock);
	buf_puts(out, "# HELP calendox_http_requests_total HTTP requests by route, method and "
	              "status.\n# TYPE calendox_http_requests_total counter\n");
	for (size_t i = 0; i < m->n_series; i++) {
		const struct http_metrics_series *s = &m->series[i];
		buf_puts(out, "calendox_http_requests_total{route=\"");
		put_label(out, s->route);
		buf_printf(out, "\",method=\"%s\",status=\"%d\"} %llu\n", s->method, s->status,
		           (unsigned long long)s->count);
	}
	buf_puts(out, "# HELP calendox_http_request_duration_seconds HTTP request duration by "
	              "route.\n# TYPE calendox_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < m->n_histograms; i++) {
		const struct http_metrics_histogram *h = &m->histograms[i];
		uint64_t cumulative = 0;
		for (size_t b = 0; b <= HTTP_METRICS_BUCKETS; b++) {
			cumulative += b < HTTP_METRICS_BUCKETS ? h->buckets[b] : 0;
			buf_puts(out, "calendox_http_request_duration_seconds_bucket{route=\"");
			put_label(out, h->route);
			if (b < HTTP_METRICS_BUCKETS)
				buf_printf(out, "\",le=\"%g\"} %llu\n", bounds[b],
				           (unsigned long long)cumulative);
			else
				buf_printf(out, "\",le=\"+Inf\"} %llu\n",
				           (unsigned long long)h->count);
		}
		buf_puts(out, "calendox_http_request_duration_seconds_sum{route=\"");
		put_label(out, h->route);
		buf_printf(out, "\"} %.6f\n", h->sum);
		buf_puts(out, "calendox_http_request_duration_seconds_count{route=\"");
		put_label(out, h->route);
		buf_printf(out, "\"} %llu\n", (unsigned long long)h->count);
	}
	pthread_mutex_unlock(&m->lock);
}
