import { expect, Page, test } from "@playwright/test";
import { jsEnabled, MANAGER, ok, signIn } from "./helpers";

const card = (page: Page, name: string) => page.getByRole("region", { name, exact: true });
const number = (page: Page, name: string) => card(page, name).locator(".text-3xl");
const count = async (page: Page, name: string) => Number(await number(page, name).textContent());

/** YYYY-MM-DD, `days` before today (UTC). */
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

test("a manager reads the KPIs, filters them and drills from a day's figure to its orders", async ({ page }) => {
  await signIn(page, MANAGER, "/command/kpis");
  await expect(page.getByRole("heading", { level: 1, name: "KPIs" })).toBeVisible();
  for (const name of ["Order cycle time", "On-time shipment rate", "Inventory accuracy", "Manual touches per order", "Gross margin", "Orders", "Revenue", "Backlog", "Stockouts"]) {
    await expect(card(page, name)).toBeVisible();
  }
  // Each says what it counts and compares with the four weeks before.
  await expect(card(page, "Order cycle time")).toContainText("Average hours from an order's capture to its last units shipping");
  await expect(card(page, "Order cycle time")).toContainText(/\d+\.\d h/);
  await expect(card(page, "On-time shipment rate")).toContainText(/vs previous period|No change to compare/);
  await expect(card(page, "Return processing time")).toContainText("Filled in when returns land.");
  // The trend is a titled image with its figures as a table.
  await expect(card(page, "Orders").getByRole("img")).toHaveAccessibleName(/^Orders by day, /);

  // One channel.
  await page.getByLabel("Channel").selectOption("WEB");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/channel=WEB/);
  await expect(page.getByText(/compared with/)).toBeVisible();

  // Two days ago, from the figures table: the workbench lists exactly those orders.
  const day = daysAgo(2);
  const orders = card(page, "Orders");
  await orders.getByText("Figures by day").click();
  const cell = orders.getByRole("row", { name: new RegExp(`^${day}`) }).getByRole("link");
  const n = Number(await cell.textContent());
  expect(n).toBeGreaterThan(0);
  await cell.click();
  await expect(page).toHaveURL(new RegExp(`/command/orders\\?channel=WEB&from=${day}&to=${day}$`));
  await expect(page.getByLabel("Channel")).toHaveValue("WEB");
  await expect(page.locator("table tbody tr")).toHaveCount(n);

  // Late shipments over four weeks, all channels: the workbench with those filters.
  await page.goto("/command/kpis");
  await card(page, "On-time shipment rate").getByRole("link", { name: /^\d+$/ }).last().click();
  await expect(page).toHaveURL(/shipped=late/);
  await expect(page.getByLabel("Against ship-by")).toHaveValue("late");
  await expect(page.locator("table tbody tr").first()).toBeVisible();

  // Inventory accuracy opens the counts submitted in the period, the demo's
  // count of bin B-03-02 among them.
  await page.goto("/command/kpis");
  await card(page, "Inventory accuracy").getByRole("link", { name: /^Inventory accuracy: .*Show the records$/ }).click();
  await expect(page).toHaveURL(new RegExp(`/command/counts\\?submitted_from=${daysAgo(27)}&submitted_to=${daysAgo(0)}$`));
  await expect(page.getByLabel("Submitted from")).toHaveValue(daysAgo(27));
  await expect(page.getByRole("row").filter({ hasText: "B-03-02" }).first()).toBeVisible();
});

test("the orders figure counts a new order without a reload", async ({ page }, info) => {
  await signIn(page, MANAGER, "/command/kpis");
  if (jsEnabled(info)) {
    await expect(page.locator("p[data-live=open]")).toBeVisible();
  }
  const before = await count(page, "Orders");
  const res = await page.request.post("/api/v1/orders", {
    data: {
      channel: "WEB",
      external_id: `K-${info.project.name}-${Date.now()}`,
      currency: "USD",
      customer: { email: "kpi.watcher@example.com", name: "Kim Watcher" },
      lines: [{ sku: "SOCK-WOOL-GREY-M", quantity: 1, unit_price: "18.00" }],
      shipping: {
        address: { name: "Kim Watcher", line1: "3 Elm St", city: "Denver", region: "CO", postcode: "80202", country: "US" },
        price: "6.95",
      },
      payment_status: "paid",
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  if (jsEnabled(info)) {
    await expect.poll(() => count(page, "Orders")).toBeGreaterThan(before);
  } else {
    await expect
      .poll(async () => {
        await page.reload();
        return count(page, "Orders");
      })
      .toBeGreaterThan(before);
  }
});

test("a stockout counted today stays behind the day's figure after it is resolved", async ({ page }, info) => {
  await signIn(page, MANAGER, "/command/kpis");
  const sku = `OUT-${info.project.name.replace(/[^a-z]/g, "").slice(0, 8).toUpperCase()}${Date.now() % 100000}`;
  await ok(page.request.post("/api/v1/products", { data: { sku, name: "Trail Lantern", prices: [{ currency: "USD", cost: "8.00", price: "29.00" }] } }));
  // Ordered with none in any warehouse: the units wait, and the product is out of stock.
  await ok(
    page.request.post("/api/v1/orders", {
      data: {
        channel: "WEB",
        external_id: `ORD-${sku}`,
        currency: "USD",
        customer: { email: `${sku.toLowerCase()}@example.com`, name: "Robin Tester" },
        lines: [{ sku, quantity: 2, unit_price: "29.00" }],
        shipping: { address: { name: "Robin Tester", line1: "12 Pine Rd", city: "Denver", region: "CO", postcode: "80202", country: "US" }, price: "6.95" },
        payment_status: "paid",
      },
    }),
  );
  let id = "";
  await expect(async () => {
    const res = await page.request.get("/api/v1/exceptions?queue=stockouts&reason=stockout&limit=200");
    const items = ((await res.json()) as { items: { id: string; entity_ref: string }[] }).items;
    id = items.find((x) => x.entity_ref === sku)?.id ?? "";
    expect(id).not.toBe("");
  }).toPass();
  await ok(page.request.post(`/api/v1/exceptions/${id}/resolve`, { data: { note: "Lanterns ordered from the supplier" } }), 200);

  // Today's point opens every stockout that began today, resolved ones included.
  const today = new Date().toISOString().slice(0, 10);
  await page.goto("/command/kpis");
  const stockouts = card(page, "Stockouts");
  await stockouts.getByText("Figures by day").click();
  await stockouts.getByRole("row", { name: new RegExp(`^${today}`) }).getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`status=any&opened_from=${today}&opened_to=${today}$`));
  await expect(page.getByLabel("Status")).toHaveValue("any");
  await expect(page.getByLabel("Opened from")).toHaveValue(today);
  const row = page.getByRole("row").filter({ hasText: sku });
  await expect(row).toContainText("Trail Lantern: 2 units on 1 order wait for stock");
  await expect(row).toContainText("Resolved by Maya Patel: Lanterns ordered from the supplier");
  // The open list no longer has it.
  await page.goto("/command/exceptions?queue=stockouts&reason=stockout");
  await expect(page.getByRole("row").filter({ hasText: sku })).toHaveCount(0);
});
