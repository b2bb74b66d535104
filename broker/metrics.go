package broker

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus metrics of one Server, in its own registry.
type metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	issued    *prometheus.CounterVec
	refreshes *prometheus.CounterVec
	upstream  *prometheus.HistogramVec
	leading   *prometheus.GaugeVec
	proxied   *prometheus.CounterVec
	proxyTime *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oauth2broker_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "oauth2broker_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oauth2broker_tokens_issued_total", Help: "Successful token answers by API and grant type.",
		}, []string{"api", "grant_type"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oauth2broker_upstream_refreshes_total", Help: "Upstream refreshes by API, provider and outcome.",
		}, []string{"api", "provider", "outcome"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "oauth2broker_upstream_refresh_duration_seconds", Help: "Upstream refresh latency by provider.",
			Buckets: prometheus.DefBuckets,
		}, []string{"provider"}),
		leading: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "oauth2broker_leader", Help: "1 while this replica runs the background job (it leads the job's election on a shared store), else 0.",
		}, []string{"job"}),
		proxied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oauth2broker_proxy_requests_total", Help: "Upstream API proxy calls by provider and status (0: no upstream answer).",
		}, []string{"provider", "status"}),
		proxyTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "oauth2broker_proxy_duration_seconds", Help: "Upstream API proxy call time by provider, answer streamed included.",
			Buckets: prometheus.DefBuckets,
		}, []string{"provider"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.issued, m.refreshes, m.upstream, m.leading, m.proxied, m.proxyTime,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe is the middleware counting requests by route pattern (never the
// raw path: it would hold identities and tokens of extra paths).
func (m *metrics) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
	m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
}

// onRefresh records one upstream refresh.
func (m *metrics) onRefresh(api, provider, outcome string, d time.Duration) {
	m.refreshes.WithLabelValues(api, provider, outcome).Inc()
	m.upstream.WithLabelValues(provider).Observe(d.Seconds())
}

func (m *metrics) handler() gin.HandlerFunc {
	h := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) }
}

// onLeading records whether this replica runs a background job.
func (m *metrics) onLeading(job string, leading bool) {
	v := 0.0
	if leading {
		v = 1
	}
	m.leading.WithLabelValues(job).Set(v)
}

// onProxy records one upstream API proxy call.
func (m *metrics) onProxy(provider string, status int, d time.Duration) {
	m.proxied.WithLabelValues(provider, strconv.Itoa(status)).Inc()
	m.proxyTime.WithLabelValues(provider).Observe(d.Seconds())
}
