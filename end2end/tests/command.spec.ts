import { expect, test } from "@playwright/test";
import { ADMIN, MANAGER, PASSWORD, SUPPORT, jsEnabled, signIn } from "./helpers";

test("an anonymous visitor is sent to sign in, and a wrong password says so", async ({ page }, info) => {
  await page.goto("/command");
  await expect(page.getByRole("heading", { name: "Sign in to Keel" })).toBeVisible();
  await expect(page).toHaveURL(/\/signin\?next=%2Fcommand$/);
  await page.getByLabel("Email").fill(`nobody-${info.project.name}@northwind.example`);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("the email or password is wrong");
  await expect(page.getByLabel("Email")).toHaveValue(`nobody-${info.project.name}@northwind.example`);
});

test("a manager signs in, sees the dashboard and signs out", async ({ page }) => {
  await signIn(page, MANAGER);
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.getByText("East Coast DC, Allentown PA")).toBeVisible();
  const recent = page.getByRole("list", { name: "Recent orders" });
  await expect(recent.getByRole("listitem")).toHaveCount(10);
  await expect(recent.getByRole("link").first()).toHaveText(/^SO-\d+$/);
  await expect(page.getByRole("list", { name: "Event feed" }).getByText("user.signed_in").first()).toBeVisible();
  await expect(page.getByRole("link", { name: "Audit log" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Users" })).toHaveCount(0);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in to Keel" })).toBeVisible();
  await page.goto("/command");
  await expect(page.getByRole("heading", { name: "Sign in to Keel" })).toBeVisible();
});

test("an admin adds a user, sees field errors first, and finds the change in the audit log", async ({ page }, info) => {
  const email = `new.agent.${info.project.name}@northwind.example`;
  await signIn(page, ADMIN, "/command/users");
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Full name").fill("New Agent");
  await page.getByLabel("Role", { exact: true }).selectOption("warehouse");
  await page.getByLabel("Initial password (12+ characters)").fill("short");
  // The browser's own minlength check would stop the post; the server's message is what we test.
  await page.getByLabel("Initial password (12+ characters)").evaluate((el) => el.removeAttribute("minlength"));
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.locator("#e-password")).toHaveText("use at least 12 characters (this one has 5)");
  await expect(page.getByLabel("Email", { exact: true })).toHaveValue(email);
  await page.getByLabel("Full name").fill("New Agent");
  await page.getByLabel("Role", { exact: true }).selectOption("warehouse");
  await page.getByLabel("Initial password (12+ characters)").fill(PASSWORD);
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByRole("status")).toHaveText(`Added ${email} as Warehouse agent`);
  await expect(page.getByRole("cell", { name: email, exact: true })).toBeVisible();

  await page.getByRole("link", { name: "Audit log" }).click();
  await page.getByLabel("Entity").selectOption("user");
  await page.getByLabel("Actor (email or id)").fill(ADMIN);
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/entity=user/);
  const row = page.getByRole("row").filter({ hasText: email });
  await expect(row.getByText("user.create")).toBeVisible();
  await expect(row.getByText(ADMIN)).toBeVisible();
  // The change reads field by field, not as raw JSON.
  const fields = row.getByLabel("Changed fields");
  await expect(fields.getByRole("term").filter({ hasText: /^role$/ })).toBeVisible();
  await expect(fields).toContainText("warehouse");
  await expect(fields).not.toContainText("{");
});

test("the live feed shows an event written elsewhere without a reload", async ({ page, request }, info) => {
  test.skip(!jsEnabled(info), "live updates need JavaScript; without it the feed is rendered at page load");
  await signIn(page, MANAGER);
  const feed = page.getByRole("list", { name: "Event feed" });
  await expect(feed).toBeVisible();
  // Write only once the stream is connected, so the event can't arrive before it.
  await expect(page.locator("section[aria-labelledby=feed-heading][data-live=open]")).toBeVisible();
  await expect(page.locator("#feed-heading").getByText("● updating live")).toBeVisible();
  // Other journeys write events in parallel, so count only this writer's sign-ins.
  const mine = feed.getByRole("listitem").filter({ hasText: SUPPORT });
  const before = await mine.count();
  const res = await request.post("/signin", { form: { email: SUPPORT, password: PASSWORD, next: "/command" }, maxRedirects: 0 });
  expect(res.status()).toBe(303);
  await expect.poll(() => mine.count()).toBeGreaterThan(before);
  await expect(mine.first()).toContainText("user.signed_in");
});
