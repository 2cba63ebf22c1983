import { expect, test } from "@playwright/test";
import { ADMIN, MANAGER, PROJECTS, signIn } from "./helpers";

// Four eyes: a large stock adjustment waits for a second person, the person
// who asked can't approve it, and an administrator's approval applies it.
test("a large adjustment waits for another person's approval, then applies once", async ({ page }, info) => {
  // Parallel projects share one server: each adds its own number of tents,
  // so its change reads differently from the others'.
  const units = 3 + PROJECTS.indexOf(info.project.name);
  const value = (units * 96).toFixed(2);
  const summary = `TENT-2P in EAST: +${units} units (found), ${value} USD at cost`;

  await signIn(page, MANAGER, "/command/products/TENT-2P");
  const adjust = page.getByRole("region", { name: "Adjust stock" });
  await adjust.getByLabel("Warehouse").selectOption("EAST");
  await adjust.getByLabel("Change (+ adds, − removes)").fill(String(units));
  await adjust.getByLabel("Bin").fill("A-01-01");
  await adjust.getByLabel("Reason").selectOption("found");
  await adjust.getByRole("button", { name: "Adjust" }).click();
  await expect(page.getByRole("status")).toHaveText(`Waiting for a second person's approval: ${summary}`);

  // The one who asked sees it waiting, without a way to approve it.
  await page.goto("/command/approvals");
  const mine = page.getByRole("row").filter({ hasText: summary });
  await expect(mine).toContainText("You asked for this; another person decides.");
  await expect(mine.getByRole("button", { name: `Approve ${summary}` })).toHaveCount(0);

  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, ADMIN, "/command/approvals");
  await page
    .getByRole("row")
    .filter({ hasText: summary })
    .getByRole("button", { name: `Approve ${summary}` })
    .click();
  await expect(page.getByRole("status")).toHaveText(`Approved and applied: ${summary}`);
  await page.goto("/command/approvals?status=applied");
  await expect(page.getByRole("row").filter({ hasText: summary })).toContainText(ADMIN);
  await page.goto("/command/audit?entity=pending_change");
  await expect(page.getByRole("row").filter({ hasText: "approval.approve" }).first()).toBeVisible();
});
