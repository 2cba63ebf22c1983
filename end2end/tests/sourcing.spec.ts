import { expect, test } from "@playwright/test";
import { MANAGER, signIn } from "./helpers";

test("a manager tries a warehouse priority on recent orders and sees the split and backorder rates beside the current rule", async ({ page }) => {
  await signIn(page, MANAGER, "/command");
  await page.getByRole("link", { name: "Sourcing" }).click();
  await expect(page.getByRole("list", { name: "Channels and their warehouses" })).toContainText("WEB: EAST → CENTRAL → WEST");

  // An unknown warehouse is refused with the reason, and nothing runs.
  await page.getByLabel("Channel", { exact: true }).selectOption("WEB");
  await page.getByLabel("Warehouse priority to try (codes, first preferred)").fill("WEST, NOPE");
  await page.getByRole("button", { name: "Try it" }).click();
  await expect(page.getByRole("alert")).toContainText("there is no active warehouse NOPE");

  await page.getByLabel("Warehouse priority to try (codes, first preferred)").fill("WEST, EAST");
  await page.getByLabel("Latest orders to replay").fill("200");
  await page.getByRole("button", { name: "Try it" }).click();
  const table = page.getByRole("table", { name: "Current rule beside the proposed one" });
  await expect(table.getByRole("columnheader", { name: "Current: EAST → CENTRAL → WEST" })).toBeVisible();
  await expect(table.getByRole("columnheader", { name: "Proposed: WEST → EAST" })).toBeVisible();
  // Both rules replay the same orders (cancelled ones have nothing to source).
  await expect(table.getByRole("row", { name: /^Orders ([1-9]\d*) \1$/ })).toBeVisible();
  await expect(table.getByRole("rowheader", { name: "Split orders" })).toBeVisible();
  await expect(page.getByRole("img", { name: /Orders split: .*% now, .*% proposed/ })).toBeVisible();
  // Channel settings are an administrator's: a manager may try, not apply.
  await expect(page.getByRole("button", { name: "Apply this priority" })).toHaveCount(0);

  await page.getByRole("button", { name: "Source backorders now" }).click();
  await expect(page.getByRole("status")).toContainText("wait for stock");
});

test("an order short of stock shows what ships from where, why, and what waits", async ({ page }) => {
  await signIn(page, MANAGER, "/command");
  await page.goto("/command/orders?backordered=true");
  // The oldest waiting order is the demo's own (journeys that run alongside
  // add newer ones in warehouses of their own).
  await page.getByRole("link", { name: /^SO-/ }).last().click();
  await expect(page.getByText(/Waiting for stock: \d+ × /)).toBeVisible();
  const fulfilments = page.getByRole("list", { name: "Fulfilments" });
  await expect(fulfilments.getByRole("listitem").first()).toContainText("open");
  await expect(fulfilments.getByRole("listitem").first()).toContainText(/(EAST|CENTRAL|WEST): /);
});
