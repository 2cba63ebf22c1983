//! Keel's UI: one Leptos app with three surfaces, rendered on the server and
//! hydrated in the browser.
//!
//! - `/command`: managers at a desktop (dashboards, audit, users);
//! - `/floor`: warehouse agents on tablets (scan-first);
//! - `/portal`: customers on phones (prove an order is theirs, see it; returns to come).
//!
//! Reads go through server functions (thin calls into `backend`). Writes are
//! plain HTML forms posted to the server's form handlers, so every page works
//! the same with JavaScript off.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

pub mod analytics;
pub mod catalog;
pub mod components;
pub mod floor;
pub mod fulfillment;
pub mod governance;
pub mod inventory;
pub mod kpi;
pub mod orders;
pub mod problem;
pub mod session;
pub mod signin;

#[cfg(feature = "ssr")]
pub mod ssr;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                // Camera scanning on the floor, where the browser can read
                // barcodes (see public/camera.js).
                <script src="/camera.js" defer></script>
                <MetaTags />
            </head>
            <body class="bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/keel.css" />
        <Title text="Keel" />
        <Router>
            <Routes fallback=components::NotFound>
                <Route path=path!("/") view=Home />
                <Route path=path!("/signin") view=signin::SignIn ssr=SsrMode::Async />
                <Route path=path!("/command") view=governance::pages::Dashboard ssr=SsrMode::Async />
                <Route path=path!("/command/audit") view=governance::pages::Audit ssr=SsrMode::Async />
                <Route path=path!("/command/approvals") view=governance::approvals::Approvals ssr=SsrMode::Async />
                <Route path=path!("/command/privacy") view=orders::privacy::Privacy ssr=SsrMode::Async />
                <Route path=path!("/command/exceptions") view=analytics::pages::Exceptions ssr=SsrMode::Async />
                <Route path=path!("/command/kpis") view=kpi::pages::Kpis ssr=SsrMode::Async />
                <Route path=path!("/command/users") view=governance::pages::Users ssr=SsrMode::Async />
                <Route path=path!("/command/orders") view=orders::pages::Orders ssr=SsrMode::Async />
                <Route path=path!("/command/orders/confirm") view=orders::pages::BulkConfirm ssr=SsrMode::Async />
                <Route path=path!("/command/orders/import") view=orders::import::OrderImport ssr=SsrMode::Async />
                <Route path=path!("/command/orders/import/:id") view=orders::import::OrderImportJob ssr=SsrMode::Async />
                <Route path=path!("/command/orders/:id") view=orders::pages::OrderPage ssr=SsrMode::Async />
                <Route path=path!("/command/prices") view=orders::prices::Prices ssr=SsrMode::Async />
                <Route path=path!("/command/sourcing") view=fulfillment::sourcing::Sourcing ssr=SsrMode::Async />
                <Route path=path!("/command/fulfilment") view=fulfillment::pages::Fulfillment ssr=SsrMode::Async />
                <Route path=path!("/command/products") view=catalog::pages::Products ssr=SsrMode::Async />
                <Route path=path!("/command/products/new") view=catalog::pages::NewProduct ssr=SsrMode::Async />
                <Route path=path!("/command/products/:sku") view=catalog::pages::ProductPage ssr=SsrMode::Async />
                <Route path=path!("/command/catalog/import") view=catalog::pages::Import ssr=SsrMode::Async />
                <Route path=path!("/command/catalog/import/:id") view=catalog::pages::ImportJobPage ssr=SsrMode::Async />
                <Route path=path!("/command/counts") view=inventory::pages::Counts ssr=SsrMode::Async />
                <Route path=path!("/command/transfers") view=inventory::pages::Transfers ssr=SsrMode::Async />
                <Route path=path!("/floor") view=floor::Floor ssr=SsrMode::Async />
                <Route path=path!("/floor/count") view=floor::CountStart ssr=SsrMode::Async />
                <Route path=path!("/floor/receive") view=floor::ReceiveStart ssr=SsrMode::Async />
                <Route path=path!("/floor/receive/:id") view=floor::ReceiveDelivery ssr=SsrMode::Async />
                <Route path=path!("/floor/count/:id") view=floor::CountBin ssr=SsrMode::Async />
                <Route path=path!("/floor/pick") view=floor::PickStart ssr=SsrMode::Async />
                <Route path=path!("/floor/pick/:id") view=floor::PickWave ssr=SsrMode::Async />
                <Route path=path!("/floor/pack") view=floor::PackQueue ssr=SsrMode::Async />
                <Route path=path!("/floor/pack/:id") view=floor::Pack ssr=SsrMode::Async />
                <Route path=path!("/account") view=governance::account::Account ssr=SsrMode::Async />
                <Route path=path!("/portal") view=orders::portal::Portal ssr=SsrMode::Async />
                <Route path=path!("/portal/order") view=orders::portal::PortalOrderPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

#[component]
fn Home() -> impl IntoView {
    view! {
        <Title text="Keel" />
        <main class="mx-auto max-w-3xl p-8">
            <h1 class="text-3xl font-bold">"Keel"</h1>
            <p class="mt-2 text-slate-600">"Operations backbone for Northwind Outfitters."</p>
            <nav aria-label="Surfaces" class="mt-8 grid gap-4 sm:grid-cols-3">
                <a class="rounded-lg border bg-white p-6 shadow-sm hover:border-indigo-500" href="/command">
                    <span class="block text-lg font-semibold">"Command center"</span>
                    <span class="text-sm text-slate-600">"KPIs, queues, audit and users"</span>
                </a>
                <a class="rounded-lg border bg-white p-6 shadow-sm hover:border-indigo-500" href="/floor">
                    <span class="block text-lg font-semibold">"Floor app"</span>
                    <span class="text-sm text-slate-600">"Scan-first warehouse work"</span>
                </a>
                <a class="rounded-lg border bg-white p-6 shadow-sm hover:border-indigo-500" href="/portal">
                    <span class="block text-lg font-semibold">"Returns portal"</span>
                    <span class="text-sm text-slate-600">"Find an order and start a return"</span>
                </a>
            </nav>
        </main>
    }
}
