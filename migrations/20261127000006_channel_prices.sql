-- A channel's price list: its own price per product, in the channel's
-- currency. Where a product has none, the catalogue price in that currency
-- applies. Capture prices an order line sent without a unit price from it.
create table channel_price (
    channel_id text not null references channel (channel_id),
    product_id text not null references product (product_id),
    price_minor bigint not null check (price_minor >= 0),
    updated_at bigint not null,
    updated_by text not null,
    primary key (channel_id, product_id)
);
