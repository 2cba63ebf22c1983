import { expect, test } from "@playwright/test";
import { ADMIN, ok, PASSWORD, PROJECTS } from "./helpers";

// The server trusts 127.0.0.1 as a proxy (scripts/e2e-server.sh), so each
// project's lookups count under an address of its own, as shoppers behind a
// real proxy do; they would otherwise share one throttle.
test.beforeEach(async ({ page }, info) => {
  await page.setExtraHTTPHeaders({
    origin: String(info.project.use.baseURL),
    "x-forwarded-for": `198.51.100.${PROJECTS.indexOf(info.project.name) + 1}`,
  });
});

test("a shopper's lookup is validated and says plainly when nothing matches", async ({ page }, info) => {
  // A number of this project's own: five misses on one number lock it for
  // everyone, and the projects share one server.
  const number = `#${9001 + PROJECTS.indexOf(info.project.name)}`;
  await page.goto("/portal");
  await expect(page.getByRole("heading", { name: "Return an item" })).toBeVisible();
  await expect(page.getByRole("navigation")).toHaveCount(0);
  await page.getByRole("button", { name: "Find my order" }).click();
  await expect(page.locator("#pe-order")).toContainText("enter your order number, as shown in your confirmation email");
  await expect(page.locator("#pe-contact")).toContainText("enter the email address or postcode used on the order");
  await page.getByLabel("Order number").fill(number);
  await page.getByLabel("Email or postcode").fill("x");
  await page.getByRole("button", { name: "Find my order" }).click();
  await expect(page.locator("#pe-contact")).toContainText("that is neither an email address nor a postcode");
  await expect(page.getByLabel("Order number")).toHaveValue(number);
  await page.getByLabel("Email or postcode").fill("80202");
  await page.getByRole("button", { name: "Find my order" }).click();
  await expect(page.locator("#pe-detail")).toContainText("also enter the order total or the date you ordered");
  await page.getByLabel("Email or postcode").fill("jon@doe.ca");
  await page.getByRole("button", { name: "Find my order" }).click();
  await expect(page.getByRole("alert")).toContainText("We couldn't find an order with those details.");
  await expect(page).not.toHaveURL(/doe/);
});

test("a shopper proves an order is theirs, sees it, and closes it", async ({ page, request }, info) => {
  // Staff, in a session of their own (not the shopper's browser), look up a
  // real demo order: its number, email, postcode and total.
  const signin = await request.post("/signin", { form: { email: ADMIN, password: PASSWORD, next: "/command" }, maxRedirects: 0 });
  expect(signin.status()).toBe(303);
  const list = await ok(request.get("/api/v1/orders?limit=100"), 200);
  const candidates = [];
  for (const o of list.items.slice(0, 40)) {
    const d = await ok(request.get(`/api/v1/orders/${o.id}`), 200);
    if (d.customer.email && d.ship_to.postcode && d.lines.length > 0) candidates.push(d);
  }
  const order = candidates[PROJECTS.indexOf(info.project.name) % candidates.length];
  expect(order, "the demo has orders with an email and postcode").toBeTruthy();

  // The email proves it.
  await page.goto("/portal");
  await page.getByLabel("Order number").fill(order.number);
  await page.getByLabel("Email or postcode").fill(order.customer.email.toUpperCase());
  await page.getByRole("button", { name: "Find my order" }).click();
  await expect(page).toHaveURL(/\/portal\/order$/);
  await expect(page.getByRole("heading", { name: `Order ${order.number}` })).toBeVisible();
  await expect(page.getByText(order.lines[0].name).first()).toBeVisible();
  // Nothing about the customer that the shopper didn't type.
  await expect(page.getByText(order.customer.name)).toHaveCount(0);
  await page.getByRole("button", { name: "Done: close this order" }).click();
  await expect(page).toHaveURL(/\/portal$/);
  await page.goto("/portal/order");
  await expect(page.getByRole("heading", { name: "Find your order again" })).toBeVisible();

  // So do the postcode and the total.
  await page.goto("/portal");
  await page.getByLabel("Order number").fill(order.number);
  await page.getByLabel("Email or postcode").fill(order.ship_to.postcode);
  await page.getByLabel("Order total or date (with a postcode)").fill(order.totals.total.amount);
  await page.getByRole("button", { name: "Find my order" }).click();
  await expect(page.getByRole("heading", { name: `Order ${order.number}` })).toBeVisible();
});
