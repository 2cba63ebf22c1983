import { expect, test } from "@playwright/test";
import { MANAGER, signIn } from "./helpers";

/** A suffix unique to this run and project, so parallel projects don't collide. */
const unique = (project: string) => `${project.replace(/[^a-z]/g, "").slice(0, 8).toUpperCase()}${Date.now() % 100000}`;

test("a manager imports a marketplace report, choosing the column the guess missed", async ({ page }, info) => {
  await signIn(page, MANAGER, "/command");
  const u = unique(info.project.name);
  // "Ref <suffix>" is no header Keel guesses, so the order id column must be chosen.
  const ref = `Ref ${u}`;
  const csv = [
    `${ref},buyer-email,sku,quantity-purchased,item-price,currency,recipient-name,ship-address-1,ship-city,ship-state,ship-postal-code,ship-country`,
    `A-${u}-1,ann.${u.toLowerCase()}@example.com,SOCK-WOOL-GREY-M,2,36.00,USD,Ann Lee,1 Main St,Austin,TX,78701,US`,
    `A-${u}-2,bo.${u.toLowerCase()}@example.com,SOCK-WOOL-GREY-M,1,18.00,USD,Bo Li,2 Oak Ave,Reno,NV,89501,US`,
    `A-${u}-3,cy.${u.toLowerCase()}@example.com,SOCK-WOOL-GREY-M,lots,18.00,USD,Cy,3 Elm St,Boise,ID,83702,US`,
  ].join("\n");

  await page.goto("/command/orders/import");
  await page.getByLabel("Channel").selectOption("AMAZON");
  await page.getByLabel("Report (CSV)").setInputFiles({ name: "report.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByRole("button", { name: "Upload and preview" }).click();

  await expect(page.getByRole("alert")).toHaveText("Choose the missing columns before importing.");
  await page.getByLabel("Order id (required)").selectOption(ref);
  await page.getByRole("button", { name: "Use these columns" }).click();

  await expect(page.getByText("2 orders ready to import; 1 row left out.")).toBeVisible();
  const leftOut = page.getByRole("row").filter({ hasText: `A-${u}-3` });
  await expect(leftOut).toContainText("quantity `lots` is not a whole number of units");
  await page.getByRole("button", { name: "Import 2 orders" }).click();

  // The progress page refreshes itself until the import is done.
  await expect(page.getByRole("heading", { name: "Import finished" })).toBeVisible({ timeout: 15000 });
  await expect(page.getByText("Created 2 · already in Keel 0 · failed 0")).toBeVisible();
});
