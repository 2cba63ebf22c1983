import { expect, test } from "@playwright/test";
import { AGENT, MANAGER, signIn } from "./helpers";

test("an agent signs in on the floor and resolves scans typed like a wedge scanner", async ({ page }) => {
  await page.goto("/floor");
  await expect(page.getByRole("heading", { name: "Sign in to Keel" })).toBeVisible();
  await signIn(page, AGENT, "/floor");
  const scan = page.getByLabel("Scan");
  await expect(scan).toBeFocused();
  const box = await page.getByRole("button", { name: "Go" }).boundingBox();
  expect(box!.height).toBeGreaterThanOrEqual(48);
  // A keyboard-wedge scanner types the code and presses Enter.
  await scan.pressSequentially(`KEEL-BADGE:${MANAGER}`);
  await scan.press("Enter");
  await expect(page.getByRole("status")).toContainText("Badge: Maya Patel (manager)");
  await page.getByLabel("Scan").fill("4006381333931");
  await page.getByLabel("Scan").press("Enter");
  await expect(page.getByRole("alert")).toContainText("Unknown code 4006381333931");
});

test("a finance user may not use the floor app", async ({ page }) => {
  await signIn(page, "sam.okafor@northwind.example");
  const res = await page.goto("/floor");
  expect(res!.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "You don't have access to this page" })).toBeVisible();
});
