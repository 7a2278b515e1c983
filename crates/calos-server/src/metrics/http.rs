//! Request rate and latency per route: a tower layer around every route
//! (and the fallback), keyed by axum's `MatchedPath` so the label set is the
//! route table — bounded whatever paths clients send; requests that match no
//! route share the label `unmatched`.
//!
//! The per-request cost is two clock reads, a lookup in a per-thread map
//! (no lock, no allocation once the route was seen on that thread), one
//! counter increment and one histogram observation. The label families'
//! maps are only locked the first time a thread sees a route.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use axum::http::{Method, Request, Response};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use tower::{Layer, Service};

use super::{Metrics, RequestLabels, RouteLabels};

/// The route label of requests no route matched.
pub const UNMATCHED: &str = "unmatched";

/// The methods given a label of their own; anything else is `other`.
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other",
];

fn method_index(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::PATCH => 3,
        Method::DELETE => 4,
        Method::HEAD => 5,
        Method::OPTIONS => 6,
        _ => 7,
    }
}

const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// One route and method's handles: the latency histogram, and the request
/// counter of each status class (made when that class first occurs, so a
/// route that never fails exports no 5xx series).
pub struct RouteHandles {
    labels: RouteLabels,
    duration: Histogram,
    requests: Family<RequestLabels, Counter>,
    by_class: [OnceLock<Counter>; 5],
}

impl RouteHandles {
    fn new(metrics: &Metrics, route: &str, method: &'static str) -> Self {
        let labels = RouteLabels {
            route: route.to_owned(),
            method,
        };
        Self {
            duration: metrics.durations.get_or_create_owned(&labels),
            requests: metrics.requests.clone(),
            labels,
            by_class: Default::default(),
        }
    }

    fn record(&self, started: Instant, status: u16) {
        self.duration.observe(started.elapsed().as_secs_f64());
        let class = usize::from(status / 100)
            .saturating_sub(1)
            .min(CLASSES.len() - 1);
        self.by_class[class]
            .get_or_init(|| {
                self.requests.get_or_create_owned(&RequestLabels {
                    route: self.labels.route.clone(),
                    method: self.labels.method,
                    status: CLASSES[class],
                })
            })
            .inc();
    }
}

type Slots = [Option<Arc<RouteHandles>>; 8];

/// A thread's resolved handles: per metrics instance (by id), per route.
/// A server has one instance; tests run several, so a few are kept.
struct Cache {
    instances: Vec<(u64, HashMap<Box<str>, Slots>)>,
}

/// Metrics instances one thread remembers; older ones are dropped (only a
/// test process ever has more than one).
const INSTANCES_KEPT: usize = 4;

thread_local! {
    static CACHE: RefCell<Cache> = const { RefCell::new(Cache { instances: Vec::new() }) };
}

/// The handles of `route` × `method` for `metrics`, from this thread's cache.
fn handles(metrics: &Metrics, route: &str, method: &Method) -> Arc<RouteHandles> {
    let m = method_index(method);
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let id = metrics.id();
        let at = match cache.instances.iter().position(|(i, _)| *i == id) {
            Some(at) => at,
            None => {
                if cache.instances.len() >= INSTANCES_KEPT {
                    cache.instances.remove(0);
                }
                cache.instances.push((id, HashMap::new()));
                cache.instances.len() - 1
            }
        };
        let routes = &mut cache.instances[at].1;
        if let Some(Some(found)) = routes.get(route).map(|slots| &slots[m]) {
            return found.clone();
        }
        let made = Arc::new(RouteHandles::new(metrics, route, METHODS[m]));
        routes.entry(Box::from(route)).or_default()[m] = Some(made.clone());
        made
    })
}

/// Records every request of the routes it wraps.
#[derive(Clone)]
pub struct RecordLayer {
    metrics: Arc<Metrics>,
}

impl RecordLayer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for RecordLayer {
    type Service = Record<S>;

    fn layer(&self, inner: S) -> Record<S> {
        Record {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Record<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B, R> Service<Request<B>> for Record<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Recording<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or(UNMATCHED, MatchedPath::as_str);
        let handles = handles(&self.metrics, route, req.method());
        Recording {
            inner: self.inner.call(req),
            handles: Some(handles),
            started: Instant::now(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The wrapped route's future; records when it yields the response.
    pub struct Recording<F> {
        #[pin]
        inner: F,
        handles: Option<Arc<RouteHandles>>,
        started: Instant,
    }
}

impl<F, R, E> Future for Recording<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = std::task::ready!(this.inner.poll(cx));
        if let (Some(handles), Ok(response)) = (this.handles.take(), &out) {
            handles.record(*this.started, response.status().as_u16());
        }
        Poll::Ready(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_resolves_a_route_once_and_counts_by_class() {
        let metrics = Metrics::new();
        let a = handles(&metrics, "/api/v1/license/verify", &Method::POST);
        let b = handles(&metrics, "/api/v1/license/verify", &Method::POST);
        assert!(
            Arc::ptr_eq(&a, &b),
            "the second lookup is the cached handle"
        );
        let get = handles(&metrics, "/api/v1/license/verify", &Method::GET);
        assert!(!Arc::ptr_eq(&a, &get), "methods count apart");
        a.record(Instant::now(), 200);
        b.record(Instant::now(), 503);
        b.record(Instant::now(), 999);
        let count = |status| {
            metrics
                .requests
                .get_or_create_owned(&RequestLabels {
                    route: "/api/v1/license/verify".into(),
                    method: "POST",
                    status,
                })
                .get()
        };
        assert_eq!((count("2xx"), count("5xx")), (1, 2));

        let other = Metrics::new();
        let c = handles(&other, "/api/v1/license/verify", &Method::POST);
        assert!(!Arc::ptr_eq(&a, &c), "another server's metrics are its own");
    }
}
