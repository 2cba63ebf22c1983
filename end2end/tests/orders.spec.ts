import { expect, Page, test } from "@playwright/test";
import { MANAGER, signIn } from "./helpers";

/** A suffix unique to this run and project, so parallel projects don't collide. */
const unique = (project: string) => `${project.replace(/[^a-z]/g, "").slice(0, 8).toUpperCase()}${Date.now() % 100000}`;

/** Captures an order through the public API with the signed-in session. */
async function captureOrder(page: Page, externalId: string, payment: string, email = `${externalId.toLowerCase()}@example.com`, quantity = 1) {
  const res = await page.request.post("/api/v1/orders", {
    data: {
      channel: "WEB",
      external_id: externalId,
      currency: "USD",
      customer: { email, name: "Robin Tester" },
      lines: [{ sku: "SOCK-WOOL-GREY-M", quantity, unit_price: "18.00" }],
      shipping: {
        address: { name: "Robin Tester", line1: "12 Pine Rd", city: "Denver", region: "CO", postcode: "80202", country: "US" },
        price: "6.95",
      },
      payment_status: payment,
    },
  });
  expect(res.status()).toBe(201);
  return (await res.json()) as { id: string; number: string; status: string };
}

test("a manager filters to held orders, sees why one is held, releases it, and the timeline says who", async ({ page }, info) => {
  await signIn(page, MANAGER, "/command");
  const ext = `E2E-${unique(info.project.name)}`;
  const order = await captureOrder(page, ext, "pending");
  expect(order.status).toBe("received");

  await page.goto("/command/orders");
  await page.getByLabel("Hold", { exact: true }).selectOption("payment_pending");
  await page.getByLabel(/^Search number/).fill(ext);
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/hold=payment_pending/);
  const row = page.getByRole("row").filter({ hasText: order.number });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("Payment pending");
  await row.getByRole("link", { name: order.number }).click();

  const holds = page.getByRole("region", { name: /^On hold/ });
  await expect(holds).toContainText("Payment pending");
  await expect(holds).toContainText("the payment has not been captured or authorized yet");
  await holds.getByLabel("Note (optional)").fill("Bank transfer arrived");
  await holds.getByRole("button", { name: "Release hold: Payment pending" }).click();

  await expect(page.getByRole("status")).toHaveText(`Released Payment pending on ${order.number}; it is now confirmed`);
  await expect(page.getByRole("region", { name: /^On hold/ })).toHaveCount(0);
  const entry = page
    .getByRole("region", { name: "Timeline" })
    .getByRole("listitem")
    .filter({ hasText: "Released hold: Payment pending. Note: Bank transfer arrived" });
  await expect(entry).toContainText("Maya Patel (user)");
  await expect(page.getByText("Manual touches: 1")).toBeVisible();
});

test("a manager cancels one unit of a line and the timeline records it", async ({ page }, info) => {
  await signIn(page, MANAGER, "/command");
  const ext = `E2E-CL-${unique(info.project.name)}`;
  const order = await captureOrder(page, ext, "paid", undefined, 2);
  expect(order.status).toBe("confirmed");

  await page.goto(`/command/orders/${order.id}`);
  await page.getByText("Cancel units of a line").click();
  await page.getByLabel("Line", { exact: true }).selectOption({ index: 0 });
  await page.getByLabel("Units to cancel").fill("1");
  await page.getByLabel("Because…", { exact: true }).fill("customer asked");
  await page.getByRole("button", { name: "Cancel units" }).click();

  await expect(page.getByRole("status")).toHaveText(`Cancelled units of SOCK-WOOL-GREY-M on ${order.number}; 1 of 2 still open`);
  const entry = page
    .getByRole("region", { name: "Timeline" })
    .getByRole("listitem")
    .filter({ hasText: "Cancelled 1 × SOCK-WOOL-GREY-M: customer asked" });
  await expect(entry).toContainText("Maya Patel (user)");
});

test("a bulk tag is confirmed first and reports a result for each order", async ({ page }, info) => {
  await signIn(page, MANAGER, "/command");
  const tag = `bulk${unique(info.project.name).toLowerCase()}`;
  // One customer with two orders: searching the email finds exactly both.
  const email = `${tag}@example.com`;
  const a = await captureOrder(page, `B1-${tag}`, "paid", email);
  const b = await captureOrder(page, `B2-${tag}`, "paid", email);

  await page.goto(`/command/orders?q=${encodeURIComponent(email)}`);
  await expect(page.getByRole("row").filter({ hasText: /SO-\d+/ })).toHaveCount(2);
  await page.getByRole("checkbox", { name: `Select ${a.number}` }).check();
  await page.getByRole("checkbox", { name: `Select ${b.number}` }).check();
  await page.getByLabel("With the selected orders").selectOption("tag");
  await page.getByLabel("Tag to add").fill(tag);
  await page.getByRole("button", { name: "Review…" }).click();

  await expect(page.getByRole("heading", { name: `Tag with “${tag}” 2 orders?` })).toBeVisible();
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("status")).toContainText("2 of 2 done.");
  await expect(page.getByRole("status")).toContainText(`${a.number}: done; now confirmed`);

  await page.goto(`/command/orders?tag=${tag}`);
  await expect(page.getByRole("row").filter({ hasText: /SO-\d+/ })).toHaveCount(2);
});
