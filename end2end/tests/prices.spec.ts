import { expect, test } from "@playwright/test";
import { MANAGER, signIn } from "./helpers";

const PROJECTS = ["desktop-js", "desktop-nojs", "tablet-js", "tablet-nojs", "phone-js", "phone-nojs"];

test("a manager sets a channel price, finds it among the channel's own prices, and removes it", async ({ page }, info) => {
  await signIn(page, MANAGER, "/command");
  // Each project changes its own product, so parallel projects don't collide.
  const idx = Math.max(0, PROJECTS.indexOf(info.project.name));
  await page.goto("/command/prices?channel=B2B");
  await expect(page.getByRole("table", { name: "Prices on B2B" })).toBeVisible();
  const sku = (await page.getByRole("row").nth(1 + idx).getByRole("cell").first().innerText()).trim();
  const price = `${11 + idx}.${String(Date.now() % 100).padStart(2, "0")}`;

  // Bad input is refused with the reason, and nothing changes.
  await page.getByLabel("SKU", { exact: true }).fill(sku);
  await page.getByLabel("Price in USD (empty removes it)").fill("12.345");
  await page.getByRole("button", { name: "Save price" }).click();
  await expect(page.getByRole("alert")).toContainText("Price: ");

  await page.getByLabel("SKU", { exact: true }).fill(sku);
  await page.getByLabel("Price in USD (empty removes it)").fill(price);
  await page.getByRole("button", { name: "Save price" }).click();
  await expect(page.getByRole("status")).toHaveText(`${sku} now costs ${price} on B2B`);

  await page.getByLabel("Only the channel's own prices").check();
  await page.getByLabel("SKU or name").fill(sku);
  await page.getByRole("button", { name: "Show" }).click();
  const row = page.getByRole("row").filter({ hasText: sku });
  await expect(row).toContainText(price);
  await expect(row).toContainText(`by ${MANAGER}`);

  await page.getByLabel("SKU", { exact: true }).fill(sku);
  await page.getByLabel("Price in USD (empty removes it)").fill("");
  await page.getByRole("button", { name: "Save price" }).click();
  await expect(page.getByRole("status")).toHaveText(`${sku} is back at the catalogue price on B2B`);
});
