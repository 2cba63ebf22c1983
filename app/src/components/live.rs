//! The live event stream, shared by every listener on a page.

use domain::views::EventRecord;
use leptos::prelude::*;

/// Calls `on_event` for every event committed from now on, as the SSE stream
/// delivers it, and keeps `set_connected` telling whether the stream is up.
/// Pages use it to refresh what an event may have changed; without
/// JavaScript there is no stream and the page is as of its load. Every
/// listener on a page shares one `EventSource`: browsers allow only six
/// connections to a host over HTTP/1.1, and each stream holds one open.
#[cfg(feature = "hydrate")]
pub fn on_live_events(on_event: impl Fn(EventRecord) + 'static, set_connected: WriteSignal<bool>) {
    let id = shared::add(Box::new(on_event), set_connected);
    on_cleanup(move || shared::remove(id));
}

#[cfg(feature = "hydrate")]
mod shared {
    use std::cell::RefCell;

    use domain::views::EventRecord;
    use leptos::prelude::*;
    use wasm_bindgen::{closure::Closure, JsCast};

    type Listener = (u64, Box<dyn Fn(EventRecord)>, WriteSignal<bool>);

    #[derive(Default)]
    struct Shared {
        source: Option<web_sys::EventSource>,
        listeners: Vec<Listener>,
        next: u64,
    }

    thread_local! {
        static SHARED: RefCell<Shared> = RefCell::new(Shared::default());
    }

    fn set_all(up: bool) {
        SHARED.with_borrow(|s| s.listeners.iter().for_each(|(_, _, c)| c.set(up)));
    }

    pub fn add(on_event: Box<dyn Fn(EventRecord)>, connected: WriteSignal<bool>) -> u64 {
        SHARED.with_borrow_mut(|s| {
            let id = s.next;
            s.next += 1;
            if let Some(source) = &s.source {
                connected.set(source.ready_state() == web_sys::EventSource::OPEN);
            } else if let Ok(source) = web_sys::EventSource::new("/api/v1/events/stream") {
                let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                    move |msg: web_sys::MessageEvent| {
                        let Some(event) = msg
                            .data()
                            .as_string()
                            .and_then(|t| serde_json::from_str::<EventRecord>(&t).ok())
                        else {
                            return;
                        };
                        SHARED.with_borrow(|s| {
                            s.listeners.iter().for_each(|(_, f, _)| f(event.clone()))
                        });
                    },
                );
                source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
                on_message.forget();
                let on_open = Closure::<dyn FnMut()>::new(|| set_all(true));
                source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
                on_open.forget();
                // EventSource reconnects by itself (resuming from
                // Last-Event-ID); the pages say so meanwhile.
                let on_error = Closure::<dyn FnMut()>::new(|| set_all(false));
                source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
                on_error.forget();
                s.source = Some(source);
            }
            s.listeners.push((id, on_event, connected));
            id
        })
    }

    pub fn remove(id: u64) {
        SHARED.with_borrow_mut(|s| {
            s.listeners.retain(|(i, _, _)| *i != id);
            if s.listeners.is_empty() {
                if let Some(source) = s.source.take() {
                    source.close();
                }
            }
        });
    }
}

#[cfg(not(feature = "hydrate"))]
pub fn on_live_events(_: impl Fn(EventRecord) + 'static, _: WriteSignal<bool>) {}
