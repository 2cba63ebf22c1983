import { expect, test } from "@playwright/test";
import { readFile } from "node:fs/promises";
import { ADMIN, MANAGER, ok, signIn } from "./helpers";

// Privacy: an administrator downloads everything about a customer, is told
// an order still to ship stops the erasure, and erases the customer once it
// is cancelled; the order stays, under the pseudonym.
test("a customer's data is exported, then the customer is erased and the order kept", async ({ page }, info) => {
  const u = `${info.project.name.replace(/[^a-z]/g, "")}${Date.now() % 1000000}`;
  const email = `priya.${u}@example.com`;
  const name = `Priya Tester ${u}`;
  await signIn(page, ADMIN);
  const order = await ok(
    page.request.post("/api/v1/orders", {
      data: {
        channel: "WEB",
        external_id: `PRIV-${u}`,
        currency: "USD",
        customer: { email, name },
        lines: [{ sku: "SOCK-WOOL-GREY-M", quantity: 1, unit_price: "18.00" }],
        shipping: {
          address: { name, line1: "7 Elm Street", city: "Denver", region: "CO", postcode: "80202", country: "US" },
          price: "6.95",
        },
        payment_status: "paid",
      },
    }),
  );

  await page.getByRole("navigation", { name: "Command center" }).getByRole("link", { name: "Privacy" }).click();
  await expect(page).toHaveURL(/\/command\/privacy$/);

  const exportForm = page.getByRole("region", { name: "Export a customer's data" });
  await exportForm.getByLabel("Customer's email").fill(email);
  const download = page.waitForEvent("download");
  await exportForm.getByRole("button", { name: "Download export (JSON)" }).click();
  const file = await (await download).path();
  const exported = JSON.parse(await readFile(file, "utf8"));
  expect(exported.format).toBe("keel.customer-export/1");
  expect(exported.customer.name).toBe(name);
  expect(exported.orders.map((o: { number: string }) => o.number)).toEqual([order.number]);
  expect(exported.orders[0].ship_to.line1).toBe("7 Elm Street");

  // The export left the page as it was; the order still needs its address.
  await page.goto("/command/privacy");
  const erase = page.getByRole("region", { name: "Erase a customer" });
  const fill = async () => {
    await erase.getByLabel("Customer's email").fill(email);
    await erase.getByLabel("Type the email again to confirm").fill(email);
    await erase.getByLabel("Reason (the request's reference)").fill(`GDPR request ${u}`);
  };
  await fill();
  await erase.getByRole("button", { name: "Erase customer" }).click();
  await expect(page.getByRole("alert")).toContainText(`orders still to ship (${order.number})`);

  await ok(page.request.post(`/api/v1/orders/${order.id}/cancel`, { data: { reason: "customer asked" } }), 200);
  await fill();
  await page.getByRole("region", { name: "Erase a customer" }).getByRole("button", { name: "Erase customer" }).click();
  await expect(page.getByRole("status")).toContainText("erased. Orders kept under the pseudonym: 1;");
  const request = page.getByRole("row").filter({ hasText: `GDPR request ${u}` });
  await expect(request).toContainText("Erasure");
  await expect(request).toContainText("Orders kept: 1");

  await page.goto(`/command/orders/${order.id}`);
  await expect(page.getByText("Erased customer").first()).toBeVisible();
  await expect(page.getByText(order.number).first()).toBeVisible();
  await expect(page.getByText(name)).toHaveCount(0);
  await expect(page.getByText("7 Elm Street")).toHaveCount(0);
});

test("the privacy page is for administrators only", async ({ page }) => {
  await signIn(page, MANAGER);
  await expect(page.getByRole("navigation", { name: "Command center" }).getByRole("link", { name: "Privacy" })).toHaveCount(0);
  const res = await page.goto("/command/privacy");
  expect(res!.status()).toBe(403);
});
