import { expect, Page, test } from "@playwright/test";
import { AGENT, MANAGER, signIn } from "./helpers";

/** A suffix unique to this run and project, so parallel projects don't collide. */
const unique = (project: string) => `${project.replace(/[^a-z]/g, "").slice(0, 8).toUpperCase()}${Date.now() % 100000}`;

/** The GS1 check digit of a payload (weights 3, 1, 3, … from the right). */
function checkDigit(payload: string): number {
  let sum = 0;
  [...payload].reverse().forEach((c, i) => (sum += Number(c) * (i % 2 === 0 ? 3 : 1)));
  return (10 - (sum % 10)) % 10;
}

async function newProduct(page: Page, fields: Record<string, string>) {
  await page.goto("/command/products/new");
  for (const [label, value] of Object.entries(fields)) {
    await page.getByLabel(label, { exact: true }).fill(value);
  }
  await page.getByRole("button", { name: "Create product" }).click();
}

test("a manager creates a product and a bundle, receives stock and sees ATP change", async ({ page }, info) => {
  const id = unique(info.project.name);
  const sku = `E2E-${id}`;
  // Distinct per project as well as per run: two projects may start in the same millisecond.
  const projectIndex = Object.keys(BINS).indexOf(info.project.name) + 1;
  const payload = `07${projectIndex}${String(Date.now()).slice(-9)}`;
  const gtin = `${payload}${checkDigit(payload)}`;
  const wrong = `${payload}${(checkDigit(payload) + 1) % 10}`;
  await signIn(page, MANAGER);
  await page.getByRole("link", { name: "Products" }).click();
  await expect(page.getByRole("heading", { name: "Products" })).toBeVisible();

  // A wrong check digit is refused next to the field, naming the right digit.
  await newProduct(page, { SKU: sku, Name: "Trail runner, blue, 42", "GTIN / EAN / UPC (optional)": wrong, "List price": "89.00", "Unit cost": "31.50" });
  await expect(page.getByRole("alert")).toContainText(`check digit is wrong: expected ${checkDigit(payload)}`);
  await expect(page.getByLabel("SKU", { exact: true })).toHaveValue(sku);
  await page.getByLabel("GTIN / EAN / UPC (optional)").fill(gtin);
  await page.getByRole("button", { name: "Create product" }).click();
  await expect(page.getByRole("status")).toContainText(`Created ${sku}`);
  await expect(page.getByTestId("atp-WEB")).toHaveText("0");

  // Receive 6 into EAST: the web store may now promise 6, Amazon 4 after its buffer of 2.
  const receive = page.getByRole("region", { name: "Receive stock" });
  await receive.getByLabel("Warehouse").selectOption("EAST");
  await receive.getByLabel("Quantity").fill("6");
  await receive.getByLabel("Reference (PO, ASN)").fill("PO-E2E");
  await page.getByRole("button", { name: "Receive" }).click();
  await expect(page.getByRole("status")).toContainText(`Received 6 × ${sku} into EAST RCV-00-00`);
  await expect(page.getByTestId("total-on-hand")).toHaveText("6");
  await expect(page.getByTestId("atp-WEB")).toHaveText("6");
  await expect(page.getByTestId("atp-AMAZON")).toHaveText("4");
  await expect(page.getByRole("cell", { name: "receipt" })).toBeVisible();

  // A two-pack bundle is available as often as its component allows: 6 / 2 = 3.
  await newProduct(page, { SKU: `${sku}-2PK`, Name: "Trail runner two-pack" });
  await expect(page.getByRole("alert")).toHaveCount(0);
  await page.goto("/command/products/new");
  await page.getByLabel("SKU", { exact: true }).fill(`${sku}-KIT`);
  await page.getByLabel("Name", { exact: true }).fill("Trail runner two-pack kit");
  await page.getByLabel(/Bundle components/).fill(`${sku}*2`);
  await page.getByRole("button", { name: "Create product" }).click();
  await expect(page.getByRole("status")).toContainText(`Created ${sku}-KIT`);
  await expect(page.getByText("bundle", { exact: true })).toBeVisible();
  await expect(page.getByTestId("atp-WEB")).toHaveText("3");

  // The list finds both by search.
  await page.goto(`/command/products?q=${sku}&kind=bundle`);
  await expect(page.getByRole("link", { name: `${sku}-KIT` })).toBeVisible();
  await expect(page.getByRole("link", { name: `${sku}-2PK` })).toHaveCount(0);
});

test("a catalogue CSV is previewed, imported with progress, and bad rows are reported by line", async ({ page }, info) => {
  const id = unique(info.project.name);
  await signIn(page, MANAGER);
  await page.goto("/command/catalog/import");
  const csv = [
    "sku,name,options,currency,cost,price",
    `CSV-${id}-1,Imported tee,size=M;colour=Navy,USD,5.00,19.00`,
    `CSV-${id}-2,Imported cap,,USD,3.00,12.00`,
    `CSV-${id}-3,,,USD,1.00,2.00`,
  ].join("\n");
  await page.getByLabel("CSV file").setInputFiles({ name: "catalog.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByRole("button", { name: "Upload and preview" }).click();
  await expect(page.getByRole("status")).toHaveText("3 rows: 2 ready to import, 1 with errors.");
  await expect(page.getByRole("cell", { name: "name: enter a name" })).toBeVisible();
  await page.getByRole("button", { name: "Import 2 rows" }).click();
  await expect(page.getByRole("heading", { name: "Import finished" })).toBeVisible({ timeout: 15_000 });
  await expect(page.getByText("3 of 3 rows processed (100%)")).toBeVisible();
  await expect(page.getByRole("status")).toHaveText("Created 2 · updated 0 · unchanged 0 · failed 1");
  await expect(page.getByRole("cell", { name: "4", exact: true })).toBeVisible();
});

/** Each project counts its own bin, so parallel runs don't share a count. */
const BINS: Record<string, string> = {
  "desktop-js": "A-02-01",
  "desktop-nojs": "A-02-02",
  "tablet-js": "A-02-03",
  "tablet-nojs": "A-02-04",
  "phone-js": "A-02-05",
  "phone-nojs": "A-02-06",
};

test("an agent counts a bin by scanning, and a manager approves the large variance", async ({ page }, info) => {
  const bin = BINS[info.project.name];
  await signIn(page, AGENT, "/floor");
  await page.getByRole("link", { name: "Count a bin" }).click();
  const binField = page.getByLabel("Scan the bin label");
  await expect(binField).toBeFocused();
  await binField.pressSequentially(bin);
  await binField.press("Enter");
  await expect(page.getByText(`Bin ${bin} in EAST`)).toBeVisible();
  const number = (await page.getByText(/CC-\d{6}/).first().textContent())!.match(/CC-\d{6}/)![0];

  // Three scans of a tent that isn't in this bin: found stock worth $288 at cost.
  for (let i = 1; i <= 3; i++) {
    const scan = page.getByLabel("Scan each item");
    await expect(scan).toBeFocused();
    await scan.pressSequentially("TENT-2P");
    await scan.press("Enter");
    await expect(page.getByRole("status")).toHaveText(`TENT-2P: ${i} counted`);
  }
  const addButton = await page.getByRole("button", { name: "Add" }).boundingBox();
  expect(addButton!.height).toBeGreaterThanOrEqual(48);
  // An unknown barcode is refused without changing the count.
  await page.getByLabel("Scan each item").fill("0000000000000");
  await page.getByLabel("Scan each item").press("Enter");
  await expect(page.getByRole("alert")).toContainText("is not a stock item's SKU or barcode");
  await page.getByRole("button", { name: "Finish count" }).click();
  await expect(page.getByRole("status")).toContainText(`Count ${number} is done. The difference`);
  await expect(page.getByRole("status")).toContainText("waits for a manager's approval");

  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, MANAGER, "/command/counts");
  await page.getByRole("link", { name: "Waiting for approval" }).click();
  await page.getByRole("button", { name: `Approve ${number}` }).click();
  await expect(page.getByRole("status")).toHaveText(`Approved and posted ${number}`);
  await page.goto("/command/products/TENT-2P");
  await expect(page.getByRole("cell", { name: bin }).first()).toBeVisible();
});

/** Each project moves a different accessory, so parallel runs never compete for units. */
const TRANSFER_SKUS: Record<string, string> = {
  "desktop-js": "MUG-ENAMEL",
  "desktop-nojs": "SPORK-TI",
  "tablet-js": "COMPASS",
  "tablet-nojs": "KNIFE-FOLD",
  "phone-js": "TOWEL-QUICK",
  "phone-nojs": "BAG-DRY-10",
};

test("a manager sends stock between warehouses and receives it at the other end", async ({ page }, info) => {
  const sku = TRANSFER_SKUS[info.project.name];
  await signIn(page, MANAGER);
  await page.getByRole("link", { name: "Transfers" }).click();
  await expect(page.getByRole("heading", { name: "Transfers", level: 1 })).toBeVisible();
  const form = page.getByRole("region", { name: "Send stock" });
  await form.getByLabel("From", { exact: true }).selectOption("EAST");
  await form.getByLabel("To", { exact: true }).selectOption("WEST");
  await form.getByLabel("SKU").fill(sku);
  await form.getByLabel("Quantity").fill("100000");
  await form.getByRole("button", { name: "Send" }).click();
  await expect(page.getByRole("alert")).toContainText(`unreserved units of ${sku}`);

  await form.getByLabel("From", { exact: true }).selectOption("EAST");
  await form.getByLabel("To", { exact: true }).selectOption("WEST");
  await form.getByLabel("SKU").fill(sku);
  await form.getByLabel("Quantity").fill("1");
  await form.getByRole("button", { name: "Send" }).click();
  const notice = page.getByRole("status");
  await expect(notice).toContainText("is on its way from EAST to WEST");
  const number = (await notice.textContent())!.match(/TR-\d{6}/)![0];
  await page.getByRole("link", { name: "In transit" }).click();
  await page.getByRole("button", { name: `Receive ${number}` }).click();
  await expect(page.getByRole("status")).toHaveText(`Received ${number} into WEST`);
  await page.goto(`/command/products/${sku}`);
  await expect(page.getByRole("cell", { name: "transfer in" }).first()).toBeVisible();
});
