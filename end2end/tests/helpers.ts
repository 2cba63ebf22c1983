import { expect, Page, TestInfo } from "@playwright/test";

export const PASSWORD = process.env.KEEL_SEED_PASSWORD ?? "e2e password 1234";
export const ADMIN = "admin@northwind.example";
export const MANAGER = "maya.patel@northwind.example";
export const SUPPORT = "lena.fischer@northwind.example";
export const AGENT = "jordan.reyes@northwind.example";

export const jsEnabled = (info: TestInfo) => !info.project.name.endsWith("-nojs");

/** Signs in through the real form and waits for the page it lands on. */
export async function signIn(page: Page, email: string, next = "/command") {
  await page.goto(`/signin?next=${encodeURIComponent(next)}`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`${next.replace("/", "\\/")}$`));
}
