import { expect, test } from "@playwright/test";

test("a shopper's lookup is validated and says plainly when nothing matches", async ({ page }) => {
  await page.goto("/portal");
  await expect(page.getByRole("heading", { name: "Return an item" })).toBeVisible();
  await expect(page.getByRole("navigation")).toHaveCount(0);
  await page.getByRole("button", { name: "Find my order" }).click();
  await expect(page.locator("#order-error")).toHaveText("enter your order number, as shown in your confirmation email");
  await expect(page.locator("#contact-error")).toHaveText("enter the email address or postcode used on the order");
  await page.getByLabel("Order number").fill("#1001");
  await page.getByLabel("Email or postcode").fill("x");
  await page.getByRole("button", { name: "Find my order" }).click();
  await expect(page.locator("#contact-error")).toHaveText("that is neither an email address nor a postcode");
  await page.getByLabel("Email or postcode").fill("jon@doe.ca");
  await page.getByRole("button", { name: "Find my order" }).click();
  await expect(page.getByRole("alert")).toContainText("We couldn't find an order with that number and email or postcode.");
});
