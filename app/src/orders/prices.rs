//! A channel's price list: what each product costs on that channel (its own
//! price, else the catalogue's in the channel's currency), with a search, the
//! channel's own prices only, pages, and a form to set or remove a price.
//! Filters are a GET form and changes a POST, so it works without JavaScript.

use leptos::prelude::*;

use crate::orders::api::{price_list_page, PriceListView};
use crate::{
    components::url::urlencode,
    components::{query_param, short_time, CommandFrame, ErrorBox, FieldAlert, Notice, Refused},
};

const BUTTON: &str = "rounded bg-indigo-700 px-4 py-2 font-semibold text-white hover:bg-indigo-800 focus:outline-none focus:ring-2 focus:ring-indigo-400";
const INPUT: &str = "mt-1 w-full rounded border px-2 py-2";

#[component]
pub fn Prices() -> impl IntoView {
    let (channel, q, own, cursor) = (
        query_param("channel"),
        query_param("q"),
        query_param("own"),
        query_param("cursor"),
    );
    let (err, notice) = (query_param("error"), query_param("notice"));
    let refused = Refused::read();
    let (q2, own2) = (q.clone(), own.clone());
    let list = Resource::new(
        move || (channel(), q2(), own2() == "on", cursor()),
        |(c, q, own, cursor)| price_list_page(c, q, own, cursor),
    );
    view! {
        <CommandFrame title="Price lists">
            {move || (!err().is_empty()).then(|| view! { <div class="mb-4"><ErrorBox message=err() /></div> })}
            {move || (!notice().is_empty()).then(|| view! { <div class="mb-4"><Notice message=notice() /></div> })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let (q, own, refused) = (q(), own() == "on", refused.clone());
                    Suspend::new(async move {
                        match list.await {
                            Ok(v) if v.channels.is_empty() => view! { <p>"There are no channels yet."</p> }.into_any(),
                            Ok(v) => price_list(v, q, own, refused).into_any(),
                            Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </CommandFrame>
    }
}

fn price_list(v: PriceListView, q: String, own: bool, refused: Refused) -> impl IntoView {
    let PriceListView {
        channels,
        channel,
        currency,
        page,
    } = v;
    let next = page.next_cursor.clone().map(|c| {
        format!(
            "/command/prices?channel={}&q={}{}&cursor={}",
            urlencode(&channel),
            urlencode(&q),
            if own { "&own=on" } else { "" },
            urlencode(&c)
        )
    });
    let empty = page.items.is_empty();
    let (sku_error, price_error) = (refused.error("sku"), refused.error("price"));
    let price_label = format!("Price in {currency} (empty removes it)");
    view! {
        <section class="rounded-lg border bg-white p-4">
            <p class="mb-3 text-sm text-slate-600">
                "An order line sent without a unit price is charged the channel's own price, else the catalogue price in the channel's currency. A product with neither can't be ordered without a price."
            </p>
            <form method="get" action="/command/prices" class="grid gap-3 sm:grid-cols-4 sm:items-end">
                <div>
                    <label for="p-channel" class="block text-sm font-medium">"Channel"</label>
                    <select id="p-channel" name="channel" class=INPUT>
                        {channels.into_iter().map(|c| { let selected = c == channel; view! { <option value=c.clone() selected=selected>{c.clone()}</option> } }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="p-q" class="block text-sm font-medium">"SKU or name"</label>
                    <input id="p-q" name="q" type="search" value=q class=INPUT />
                </div>
                <div class="flex items-center gap-2 py-2">
                    <input id="p-own" name="own" type="checkbox" checked=own class="h-5 w-5" />
                    <label for="p-own" class="text-sm">"Only the channel's own prices"</label>
                </div>
                <div><button type="submit" class=BUTTON>"Show"</button></div>
            </form>
        </section>
        <section class="mt-4 rounded-lg border bg-white p-4">
            <h2 class="text-lg font-semibold">{format!("Set a price on {channel} ({currency})")}</h2>
            <form method="post" action="/command/prices" class="mt-2 grid gap-3 sm:grid-cols-3 sm:items-end">
                <input type="hidden" name="channel" value=channel.clone() />
                <div>
                    <label for="s-sku" class="block text-sm font-medium">"SKU"</label>
                    <input id="s-sku" name="sku" required value=refused.value("sku", String::new()) class=INPUT
                        aria-invalid=(!sku_error.is_empty()).then_some("true") aria-describedby=(!sku_error.is_empty()).then_some("s-sku-error") />
                    <FieldAlert id="s-sku-error".into() label="SKU".into() message=sku_error />
                </div>
                <div>
                    <label for="s-price" class="block text-sm font-medium">{price_label.clone()}</label>
                    <input id="s-price" name="price" inputmode="decimal" value=refused.value("price", String::new()) class=INPUT
                        aria-invalid=(!price_error.is_empty()).then_some("true") aria-describedby=(!price_error.is_empty()).then_some("s-price-error") />
                    <FieldAlert id="s-price-error".into() label="Price".into() message=price_error />
                </div>
                <div><button type="submit" class=BUTTON>"Save price"</button></div>
            </form>
        </section>
        <section class="mt-4 rounded-lg border bg-white p-4">
            {if empty {
                view! { <p>{if own { "This channel has no prices of its own yet; the catalogue's apply." } else { "No products match." }}</p> }.into_any()
            } else {
                view! {
                    <table class="w-full text-left text-sm">
                        <caption class="text-left text-sm text-slate-500">{format!("Prices on {channel}")}</caption>
                        <thead><tr class="border-b">
                            <th class="p-2">"SKU"</th><th class="p-2">"Product"</th>
                            <th class="p-2 text-right">"Charged"</th><th class="p-2 text-right">"Channel price"</th>
                            <th class="p-2 text-right">"Catalogue price"</th><th class="p-2">"Changed"</th>
                        </tr></thead>
                        <tbody>
                            {page.items.into_iter().map(|p| {
                                let changed = match (p.updated_by, p.updated_at) {
                                    (Some(by), Some(at)) => format!("{} by {by}", short_time(&at)),
                                    _ => String::new(),
                                };
                                let show = |m: Option<domain::Money>| m.map(|m| m.amount().to_string()).unwrap_or_else(|| "—".into());
                                view! {
                                    <tr class="border-b">
                                        <td class="p-2 font-mono">{p.sku}</td>
                                        <td class="p-2">{p.name}</td>
                                        <td class="p-2 text-right tabular-nums font-semibold">{p.price.map(|m| m.amount().to_string()).unwrap_or_else(|| "no price".into())}</td>
                                        <td class="p-2 text-right tabular-nums">{show(p.channel_price)}</td>
                                        <td class="p-2 text-right tabular-nums">{show(p.catalogue_price)}</td>
                                        <td class="p-2 text-slate-600">{changed}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            {next.map(|href| view! { <p class="mt-3"><a href=href class="text-indigo-700 underline">"Next page"</a></p> })}
        </section>
    }
}
