//! Prometheus metrics, kept in process with atomics: request counts by status
//! class, a latency histogram, and gauges read at scrape time.

use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Default)]
pub struct Metrics {
    by_class: [AtomicU64; 5],
    buckets: [AtomicU64; 10],
    count: AtomicU64,
    sum_micros: AtomicU64,
    pub sign_in_failures: AtomicU64,
    /// Requests whose handler panicked (answered 500 by the catch layer and
    /// counted in the 5xx class too).
    pub panics: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, status: u16, micros: u64) {
        let class = (status / 100).clamp(1, 5) as usize - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        let secs = micros as f64 / 1e6;
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The text exposition format. `latest_event_seq` and the pool figures are
    /// read by the caller at scrape time.
    pub fn render(&self, latest_event_seq: i64, pool_size: u32, pool_idle: usize) -> String {
        let mut out = String::new();
        out.push_str("# HELP keel_http_requests_total HTTP requests by status class.\n# TYPE keel_http_requests_total counter\n");
        for (i, n) in self.by_class.iter().enumerate() {
            out.push_str(&format!(
                "keel_http_requests_total{{class=\"{}xx\"}} {}\n",
                i + 1,
                n.load(Ordering::Relaxed)
            ));
        }
        out.push_str("# HELP keel_http_request_duration_seconds Request latency.\n# TYPE keel_http_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (b, n) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Ordering::Relaxed);
            out.push_str(&format!(
                "keel_http_request_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}\n"
            ));
        }
        let count = self.count.load(Ordering::Relaxed);
        out.push_str(&format!(
            "keel_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n"
        ));
        out.push_str(&format!(
            "keel_http_request_duration_seconds_sum {}\n",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        ));
        out.push_str(&format!(
            "keel_http_request_duration_seconds_count {count}\n"
        ));
        out.push_str(&format!("# HELP keel_sign_in_failures_total Refused sign-ins.\n# TYPE keel_sign_in_failures_total counter\nkeel_sign_in_failures_total {}\n", self.sign_in_failures.load(Ordering::Relaxed)));
        out.push_str(&format!("# HELP keel_panics_total Requests whose handler panicked (a bug; each is logged).\n# TYPE keel_panics_total counter\nkeel_panics_total {}\n", self.panics.load(Ordering::Relaxed)));
        out.push_str(&format!("# HELP keel_projection_skipped_events_total Events a projection could not apply and stepped past (each an incident).\n# TYPE keel_projection_skipped_events_total counter\nkeel_projection_skipped_events_total {}\n", backend::SKIPPED_EVENTS.load(Ordering::Relaxed)));
        out.push_str(&format!("# HELP keel_orders_ingested_total Orders captured from any channel (replays excluded).\n# TYPE keel_orders_ingested_total counter\nkeel_orders_ingested_total {}\n", backend::ORDERS_CAPTURED.load(Ordering::Relaxed)));
        out.push_str(&format!("# HELP keel_reservations_refused_total Reservations refused for want of stock.\n# TYPE keel_reservations_refused_total counter\nkeel_reservations_refused_total {}\n", backend::REFUSED_RESERVATIONS.load(Ordering::Relaxed)));
        out.push_str(&format!("# HELP keel_event_seq Highest committed event sequence number.\n# TYPE keel_event_seq gauge\nkeel_event_seq {latest_event_seq}\n"));
        out.push_str(&format!("# HELP keel_db_pool_connections Open database connections.\n# TYPE keel_db_pool_connections gauge\nkeel_db_pool_connections{{state=\"open\"}} {pool_size}\nkeel_db_pool_connections{{state=\"idle\"}} {pool_idle}\n"));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_counts_every_request() {
        let m = Metrics::default();
        m.observe(200, 800);
        m.observe(404, 30_000);
        m.observe(500, 2_000_000);
        let text = m.render(7, 2, 1);
        assert!(text.contains("keel_http_requests_total{class=\"2xx\"} 1"));
        assert!(text.contains("keel_http_requests_total{class=\"5xx\"} 1"));
        assert!(text.contains("keel_http_request_duration_seconds_bucket{le=\"0.001\"} 1"));
        assert!(text.contains("keel_http_request_duration_seconds_bucket{le=\"0.05\"} 2"));
        assert!(text.contains("keel_http_request_duration_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("keel_event_seq 7"));
    }
}
