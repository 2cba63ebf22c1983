import { APIResponse, expect, Page, TestInfo } from "@playwright/test";

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

/** The Playwright projects, in the order the config lists them. */
export const PROJECTS = ["desktop-js", "desktop-nojs", "tablet-js", "tablet-nojs", "phone-js", "phone-nojs"];

/** A code unique to this run and project for the floor journeys: parallel projects share one server. */
export const floorCode = (project: string) => `${project[0].toUpperCase()}${project.endsWith("nojs") ? "N" : "J"}${Date.now() % 1000000}`;

/** A valid GTIN-13 from a 12-digit payload (GS1 mod-10 check digit). */
export function gtin13(payload: string) {
  const sum = [...payload].reverse().reduce((s, d, i) => s + Number(d) * (i % 2 === 0 ? 3 : 1), 0);
  return payload + String((10 - (sum % 10)) % 10);
}

/** An API call that must answer `status` (201 unless told); its JSON body. */
export async function ok(res: Promise<APIResponse>, status = 201) {
  const r = await res;
  expect(r.status(), await r.text()).toBe(status);
  return r.json();
}

/**
 * Types a code into the scan field and presses Enter, as a wedge scanner
 * does, and waits for the answer (a new page, from the form post or, with
 * JavaScript, once the scan queue has sent it).
 */
export async function wedge(page: Page, code: string) {
  const scan = page.getByLabel(/^Scan/);
  await scan.fill("");
  await scan.pressSequentially(code);
  const answered = page.waitForEvent("load");
  await scan.press("Enter");
  await answered;
}
