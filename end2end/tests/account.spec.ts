import { expect, Page, test } from "@playwright/test";
import { ADMIN, ok, PASSWORD } from "./helpers";

async function signInAs(page: Page, email: string, password: string, next: string) {
  await page.goto(`/signin?next=${encodeURIComponent(next)}`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`${next.replace("/", "\\/")}$`));
}

test("a warehouse agent changes their own password from the floor and signs in with it", async ({ page, request }, info) => {
  // An agent of this run and project, made by an administrator.
  const email = `agent-${info.project.name}-${Date.now() % 1000000}@northwind.example`;
  const signin = await request.post("/signin", { form: { email: ADMIN, password: PASSWORD, next: "/command" }, maxRedirects: 0 });
  expect(signin.status()).toBe(303);
  await ok(request.post("/api/v1/users", { data: { email, name: "Sam Agent", role: "warehouse", password: "first password 1" } }));

  await signInAs(page, email, "first password 1", "/floor");
  await page.getByRole("link", { name: "Account" }).click();
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();

  // The two new passwords must agree; nothing typed comes back.
  await page.getByLabel("Current password").fill("first password 1");
  await page.getByLabel("New password", { exact: true }).fill("second password 2");
  await page.getByLabel("New password again").fill("second password 3");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("alert")).toContainText("the two new passwords differ");
  await expect(page.getByLabel("New password", { exact: true })).toHaveValue("");

  await page.getByLabel("Current password").fill("first password 1");
  await page.getByLabel("New password", { exact: true }).fill("second password 2");
  await page.getByLabel("New password again").fill("second password 2");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status")).toContainText("Your password is changed.");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await signInAs(page, email, "second password 2", "/floor");
});
