import { expect, Page, test } from "@playwright/test";
import { ADMIN, floorCode, ok, signIn } from "./helpers";

/**
 * A form the server refuses comes back with each message beside the field
 * that caused it (tied to the input for screen readers), with what was typed
 * kept, and nothing changed; then the corrected form goes through. With
 * JavaScript and without it: these are plain form posts either way.
 */

/** The field's message, as the input points to it. */
async function messageFor(page: Page, label: string | RegExp, scope = page.locator("body")) {
  const input = scope.getByLabel(label, { exact: typeof label === "string" });
  await expect(input).toHaveAttribute("aria-invalid", "true");
  const id = await input.getAttribute("aria-describedby");
  expect(id, `${label} points to its message`).toBeTruthy();
  return page.locator(`[id="${id}"]`);
}

test("a product edit refused for its prices shows each message beside its field", async ({ page }, info) => {
  await signIn(page, ADMIN, "/command");
  const sku = `FE-${floorCode(info.project.name)}`;
  await ok(page.request.post("/api/v1/products", { data: { sku, name: "Field lamp", prices: [{ currency: "USD", cost: "9.00", price: "39.00" }] } }));

  await page.goto(`/command/products/${sku}`);
  const edit = page.locator("details").filter({ has: page.locator("summary", { hasText: "Edit" }) });
  await edit.locator("summary").click();
  await edit.getByLabel("List price", { exact: true }).fill("12.345");
  await edit.getByLabel("Unit cost", { exact: true }).fill("abc");
  await edit.getByRole("button", { name: "Save changes" }).click();

  // The form opens again by itself, each message under its field.
  await expect(await messageFor(page, "List price", edit)).toContainText("12.345 has more decimal places than USD allows (2)");
  await expect(await messageFor(page, "Unit cost", edit)).toContainText("`abc` is not a decimal amount");
  await expect(edit.getByLabel("List price", { exact: true })).toHaveValue("12.345");
  await expect(edit.getByLabel("Unit cost", { exact: true })).toHaveValue("abc");
  await expect(edit.getByLabel("Name", { exact: true })).not.toHaveAttribute("aria-invalid", "true");
  const unchanged = await ok(page.request.get(`/api/v1/products/${sku}`), 200);
  expect(unchanged.prices[0].price.amount).toBe("39.00");

  await edit.getByLabel("List price", { exact: true }).fill("12.35");
  await edit.getByLabel("Unit cost", { exact: true }).fill("4.10");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status")).toHaveText(`Saved ${sku}`);
  await expect(page.getByRole("alert")).toHaveCount(0);
  const saved = await ok(page.request.get(`/api/v1/products/${sku}`), 200);
  expect(saved.prices[0].price.amount).toBe("12.35");
});

test("an order's new address refused field by field keeps what was typed", async ({ page }, info) => {
  await signIn(page, ADMIN, "/command");
  const u = floorCode(info.project.name);
  const order = await ok(
    page.request.post("/api/v1/orders", {
      data: {
        channel: "WEB",
        external_id: `FE-ADDR-${u}`,
        currency: "USD",
        customer: { email: `fe-${u.toLowerCase()}@example.com`, name: "Robin Tester" },
        lines: [{ sku: "TEE-CLASSIC-NAVY-M", quantity: 1, unit_price: "24.00" }],
        shipping: { address: { name: "Robin Tester", line1: "12 Pine Rd", city: "Denver", region: "CO", postcode: "80202", country: "US" }, price: "4.95" },
        payment_status: "paid",
      },
    }),
  );

  await page.goto(`/command/orders/${order.id}`);
  await page.locator("summary", { hasText: "Change the shipping address" }).click();
  await page.getByLabel("City").fill("");
  await page.getByLabel("Country (2 letters)").fill("USA");
  await page.getByLabel("Street").fill("40 Cedar Ave");
  await page.getByRole("button", { name: "Save address" }).click();

  await expect(await messageFor(page, "City")).toContainText("the city is missing");
  await expect(await messageFor(page, "Country (2 letters)")).toContainText("`USA` is not a two-letter ISO country code");
  await expect(page.getByLabel("Street")).toHaveValue("40 Cedar Ave");
  await expect(page.getByLabel("Country (2 letters)")).toHaveValue("USA");
  const unchanged = await ok(page.request.get(`/api/v1/orders/${order.id}`), 200);
  expect(unchanged.ship_to.line1).toBe("12 Pine Rd");

  await page.getByLabel("City").fill("Boulder");
  await page.getByLabel("Country (2 letters)").fill("US");
  await page.getByRole("button", { name: "Save address" }).click();
  await expect(page.getByRole("status")).toHaveText("Shipping address changed");
  const changed = await ok(page.request.get(`/api/v1/orders/${order.id}`), 200);
  expect([changed.ship_to.line1, changed.ship_to.city]).toEqual(["40 Cedar Ave", "Boulder"]);
});

test("a channel price refused for its precision is shown beside the price", async ({ page }, info) => {
  await signIn(page, ADMIN, "/command");
  const sku = `FP-${floorCode(info.project.name)}`;
  await ok(page.request.post("/api/v1/products", { data: { sku, name: "Field mug", prices: [{ currency: "USD", cost: "2.00", price: "9.00" }] } }));

  await page.goto("/command/prices?channel=B2B");
  await page.getByLabel("SKU", { exact: true }).fill(sku);
  await page.getByLabel("Price in USD (empty removes it)").fill("7.125");
  await page.getByRole("button", { name: "Save price" }).click();
  await expect(await messageFor(page, "Price in USD (empty removes it)")).toContainText("7.125 has more decimal places than USD allows (2)");
  await expect(page.getByLabel("SKU", { exact: true })).toHaveValue(sku);
  await expect(page.getByLabel("Price in USD (empty removes it)")).toHaveValue("7.125");

  await page.getByLabel("Price in USD (empty removes it)").fill("7.15");
  await page.getByRole("button", { name: "Save price" }).click();
  await expect(page.getByRole("status")).toHaveText(`${sku} now costs 7.15 on B2B`);
});

test("a package's measures refused on the pack screen stand beside the weight and the sides", async ({ page }, info) => {
  await signIn(page, ADMIN, "/command");
  const u = floorCode(info.project.name);
  const wh = `F${u}`;
  const sku = `${u}-BOX`;
  await ok(page.request.post("/api/v1/warehouses", { data: { code: wh, name: `E2E ${u}` } }));
  await ok(page.request.post(`/api/v1/warehouses/${wh}/locations`, { data: { code: "A-01-01" } }));
  await ok(page.request.post("/api/v1/products", { data: { sku, name: "Box", prices: [{ currency: "USD", cost: "3.00", price: "12.00" }] } }));
  await ok(page.request.post("/api/v1/stock/receipts", { data: { warehouse: wh, lines: [{ sku, quantity: 3, location: "A-01-01" }] } }));
  await ok(page.request.post("/api/v1/channels", { data: { code: `C${u}`, kind: "web", currency: "USD", warehouses: [wh] } }));
  const order = await ok(
    page.request.post("/api/v1/orders", {
      data: {
        channel: `C${u}`,
        external_id: `FE-PACK-${u}`,
        currency: "USD",
        customer: { email: `fe-pack-${u.toLowerCase()}@example.com`, name: "Robin Tester" },
        lines: [{ sku, quantity: 1, unit_price: "12.00" }],
        shipping: { address: { name: "Robin Tester", line1: "12 Pine Rd", city: "Denver", region: "CO", postcode: "80202", country: "US" }, price: "6.95", method: "Ground" },
        payment_status: "paid",
      },
    }),
  );
  const wave = await ok(page.request.post("/api/v1/waves", { data: { warehouse: wh } }));
  for (const code of ["A-01-01", sku, "1"]) {
    const scan = await ok(page.request.post(`/api/v1/waves/${wave.id}/scans`, { data: { code } }), 200);
    expect(scan.accepted, JSON.stringify(scan)).toBe(true);
  }
  const f = order.fulfillments[0].id;
  const packed = await ok(page.request.post(`/api/v1/fulfillments/${f}/pack-scans`, { data: { code: sku } }), 200);
  expect(packed.accepted, JSON.stringify(packed)).toBe(true);

  await page.goto(`/floor/pack/${f}`);
  const pkg = page.getByRole("region", { name: "Package 1" });
  await pkg.getByLabel("Weight (g)").fill("0");
  await pkg.getByLabel("Length (mm)").fill("300");
  await pkg.getByLabel("Width (mm)").fill("200");
  await pkg.getByLabel("Height (mm)").fill("9000");
  await pkg.getByRole("button", { name: "Save package 1" }).click();

  const again = page.getByRole("region", { name: "Package 1" });
  await expect(await messageFor(page, "Weight (g)", again)).toContainText("weight must be 1 to 70000 g");
  const sides = await messageFor(page, "Height (mm)", again);
  await expect(sides).toContainText("each side must be 1 to 2700 mm");
  await expect(again.getByLabel("Length (mm)")).toHaveAttribute("aria-describedby", (await sides.getAttribute("id"))!);
  await expect(again.getByLabel("Height (mm)")).toHaveValue("9000");
  await expect(again.getByLabel("Length (mm)")).toHaveValue("300");

  await again.getByLabel("Weight (g)").fill("450");
  await again.getByLabel("Height (mm)").fill("120");
  await again.getByRole("button", { name: "Save package 1" }).click();
  await expect(page.getByRole("status").first()).toContainText("Package 1 weighed and measured");
  await expect(page.getByText("Pack verified: every unit is packed, weighed and measured.")).toBeVisible();
});

test("the product page's stock forms and the transfer form refuse beside the field, each form its own", async ({ page }, info) => {
  await signIn(page, ADMIN, "/command");
  const u = floorCode(info.project.name);
  const [sku, wh, other] = [`FS-${u}`, `S${u}`, `T${u}`];
  for (const code of [wh, other]) {
    await ok(page.request.post("/api/v1/warehouses", { data: { code, name: `E2E ${code}` } }));
  }
  await ok(page.request.post(`/api/v1/warehouses/${wh}/locations`, { data: { code: "A-01-01" } }));
  await ok(page.request.post("/api/v1/products", { data: { sku, name: "Field jar", track_lots: true, prices: [{ currency: "USD", cost: "1.00", price: "4.00" }] } }));

  // Receiving a lot-tracked item without its lot: the message stands under
  // the Lot field of the receive form, and what was typed comes back.
  await page.goto(`/command/products/${sku}`);
  const receive = page.getByRole("region", { name: "Receive stock" });
  await receive.getByLabel("Warehouse").selectOption(wh);
  await receive.getByLabel("Quantity").fill("4");
  await receive.getByLabel("Bin (empty for the receiving dock)").fill("A-01-01");
  await receive.getByRole("button", { name: "Receive" }).click();
  const received = page.getByRole("region", { name: "Receive stock" });
  await expect(await messageFor(page, "Lot", received)).toContainText(`${sku} is lot-tracked: enter the lot printed on the case`);
  await expect(received.getByLabel("Quantity")).toHaveValue("4");
  // The adjust form's fields of the same names are not marked.
  await expect(page.getByRole("region", { name: "Adjust stock" }).getByLabel("Lot (optional)")).not.toHaveAttribute("aria-invalid", "true");
  await received.getByLabel("Warehouse").selectOption(wh);
  await received.getByLabel("Lot").fill("L-1");
  await received.getByRole("button", { name: "Receive" }).click();
  await expect(page.getByRole("status")).toContainText(`Received 4 × ${sku} into ${wh} A-01-01`);

  // Adjusting by nothing: beside the change, in the adjust form only.
  const adjust = page.getByRole("region", { name: "Adjust stock" });
  await adjust.getByLabel("Warehouse").selectOption(wh);
  await adjust.getByLabel("Change (+ adds, − removes)").fill("0");
  await adjust.getByLabel("Bin").fill("A-01-01");
  await adjust.getByLabel("Lot (optional)").fill("L-1");
  await adjust.getByRole("button", { name: "Adjust" }).click();
  const adjusted = page.getByRole("region", { name: "Adjust stock" });
  await expect(await messageFor(page, "Change (+ adds, − removes)", adjusted)).toContainText("not 0");
  await expect(adjusted.getByLabel("Bin")).toHaveValue("A-01-01");
  await expect(page.getByRole("region", { name: "Receive stock" }).getByLabel("Quantity")).not.toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId("total-on-hand")).toHaveText("4");

  // Sending more than there is: beside the quantity of the transfer form.
  await page.goto("/command/transfers");
  await page.getByLabel("From", { exact: true }).selectOption(wh);
  await page.getByLabel("To", { exact: true }).selectOption(other);
  await page.getByLabel("SKU", { exact: true }).fill(sku);
  await page.getByLabel("Quantity", { exact: true }).fill("9");
  await page.getByRole("button", { name: "Send" }).click();
  await expect(await messageFor(page, "Quantity")).toContainText(`${wh} has 4 unreserved units of ${sku}`);
  await expect(page.getByLabel("Quantity", { exact: true })).toHaveValue("9");
  await expect(page.getByLabel("SKU", { exact: true })).toHaveValue(sku);
  await page.getByLabel("From", { exact: true }).selectOption(wh);
  await page.getByLabel("To", { exact: true }).selectOption(other);
  await page.getByLabel("Quantity", { exact: true }).fill("3");
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.getByRole("status")).toContainText(`from ${wh} to ${other}`);
});

test("the order page's action forms refuse beside their own field and open again", async ({ page }, info) => {
  await signIn(page, ADMIN, "/command");
  const u = floorCode(info.project.name);
  const order = await ok(
    page.request.post("/api/v1/orders", {
      data: {
        channel: "WEB",
        external_id: `FE-ACT-${u}`,
        currency: "USD",
        customer: { email: `fe-act-${u.toLowerCase()}@example.com`, name: "Robin Tester" },
        lines: [
          { sku: "TEE-CLASSIC-NAVY-M", quantity: 2, unit_price: "24.00" },
          { sku: "TEE-CLASSIC-NAVY-L", quantity: 1, unit_price: "24.00" },
        ],
        shipping: { address: { name: "Robin Tester", line1: "12 Pine Rd", city: "Denver", region: "CO", postcode: "80202", country: "US" }, price: "4.95" },
        payment_status: "paid",
      },
    }),
  );

  // More units than the line has: beside "Units to cancel", reason kept.
  await page.goto(`/command/orders/${order.id}`);
  await page.locator("summary", { hasText: "Cancel units of a line" }).click();
  await page.getByLabel("Line", { exact: true }).selectOption({ index: 0 });
  await page.getByLabel("Units to cancel").fill("5");
  await page.getByLabel("Because…", { exact: true }).fill("customer changed size");
  await page.getByRole("button", { name: "Cancel units" }).click();
  await expect(await messageFor(page, "Units to cancel")).toContainText("only 2 units of this line are still open");
  await expect(page.getByLabel("Because…", { exact: true })).toHaveValue("customer changed size");
  await expect(page.getByLabel("Cancel the order because…")).not.toHaveAttribute("aria-invalid", "true");
  await page.getByLabel("Line", { exact: true }).selectOption({ index: 0 });
  await page.getByLabel("Units to cancel").fill("1");
  await page.getByRole("button", { name: "Cancel units" }).click();
  await expect(page.getByRole("status")).toContainText("Cancelled units of TEE-CLASSIC-NAVY-M");

  // A tag that can't be one: beside "Add tags", with what was typed.
  await page.getByLabel("Add tags").fill("vip, not a tag!");
  await page.getByRole("button", { name: "Update tags" }).click();
  await expect(await messageFor(page, "Add tags")).toContainText("`not a tag!`: a tag has only letters, digits, - and _");
  await expect(page.getByLabel("Add tags")).toHaveValue("vip, not a tag!");
  await page.getByLabel("Add tags").fill("vip");
  await page.getByRole("button", { name: "Update tags" }).click();
  await expect(page.getByRole("status")).toHaveText("Tags: vip");
});

test("a sourcing dry run refused for its list stands beside the list, and a good list runs", async ({ page }) => {
  await signIn(page, ADMIN, "/command");
  await page.goto("/command/sourcing?channel=WEB");
  const list = page.getByLabel("Warehouse priority to try (codes, first preferred)");
  await list.fill("EAST, EAST");
  await page.getByRole("button", { name: "Try it" }).click();
  await expect(page.locator('[id="e-proposed"]')).toContainText("EAST is listed twice");
  await expect(page.getByLabel("Warehouse priority to try (codes, first preferred)")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByRole("heading", { name: /Dry run on/ })).toHaveCount(0);

  await page.getByLabel("Warehouse priority to try (codes, first preferred)").fill("EAST");
  await page.getByRole("button", { name: "Try it" }).click();
  await expect(page.getByRole("heading", { name: /Dry run on WEB's last/ })).toBeVisible();
  await expect(page.locator('[id="e-proposed"]')).toHaveCount(0);
});
