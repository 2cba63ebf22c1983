import { APIRequestContext, expect, Page, test } from "@playwright/test";
import { ADMIN, floorCode, gtin13, jsEnabled, ok, PROJECTS, signIn, wedge } from "./helpers";

/**
 * A warehouse of this project's own with bins A-01-01 and B-01-01, a tee, a
 * lot-tracked mug with a GTIN and a cap, and a paid order for a tee that
 * waits (backordered) because no warehouse has any.
 */
async function dock(request: APIRequestContext, u: string, project: string, tag: number) {
  const wh = `W${u}`;
  const [tee, mug, cap] = [`${u}-TEE`, `${u}-MUG`, `${u}-CAP`];
  const gtin = gtin13(`2${PROJECTS.indexOf(project)}${tag}${String(Date.now() % 1000000).padStart(6, "0")}111`);
  await ok(request.post("/api/v1/warehouses", { data: { code: wh, name: `Dock ${u}` } }));
  for (const bin of ["A-01-01", "B-01-01"]) {
    await ok(request.post(`/api/v1/warehouses/${wh}/locations`, { data: { code: bin } }));
  }
  for (const [sku, name, extra] of [
    [tee, "Tee", {}],
    [mug, "Mug", { gtin, track_lots: true }],
    [cap, "Cap", {}],
  ] as const) {
    await ok(request.post("/api/v1/products", { data: { sku, name, ...extra, prices: [{ currency: "USD", cost: "3.00", price: "12.00" }] } }));
  }
  await ok(request.post("/api/v1/channels", { data: { code: `C${u}`, kind: "web", currency: "USD", warehouses: [wh] } }));
  const order = await ok(
    request.post("/api/v1/orders", {
      data: {
        channel: `C${u}`,
        external_id: `RCV-${u}`,
        currency: "USD",
        customer: { email: `rcv-${u.toLowerCase()}@example.com`, name: "Sam Waiting" },
        lines: [{ sku: tee, quantity: 1, unit_price: "12.00" }],
        shipping: {
          address: { name: "Sam Waiting", line1: "3 Elm St", city: "Boise", region: "ID", postcode: "83702", country: "US" },
          price: "4.95",
          method: "Ground",
        },
        payment_status: "paid",
      },
    }),
  );
  expect(order.lines[0].backordered_quantity).toBe(1);
  return { wh, tee, mug, cap, gtin, order };
}

async function openReceiving(page: Page, wh: string) {
  await page.goto("/floor");
  await page.getByRole("link", { name: "Receive" }).click();
  await expect(page.getByRole("heading", { name: "Receive", level: 1 })).toBeVisible();
  await page.getByLabel("Show deliveries for").selectOption(wh);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(new RegExp(`warehouse=${wh}`));
}

test("an announced delivery is received by scans and put away into bins, a stray item is refused, and the waiting order is sourced", async ({ page }, info) => {
  await signIn(page, ADMIN, "/floor");
  const u = "R" + floorCode(info.project.name);
  const { wh, tee, mug, cap, gtin, order } = await dock(page.request, u, info.project.name, 0);
  const delivery = await ok(
    page.request.post("/api/v1/deliveries", {
      data: { warehouse: wh, supplier: "Acme Supply", reference: `ASN-${u}`, expected_on: "2026-12-01", lines: [{ sku: tee, quantity: 5 }, { sku: mug, quantity: 2 }] },
    }),
  );

  await openReceiving(page, wh);
  await page.getByRole("link", { name: new RegExp(delivery.number) }).click();
  await expect(page.getByText(`${delivery.number} · ${wh} · Acme Supply · ASN-${u}`)).toBeVisible();
  await expect(page.getByText("0 of 7 units received")).toBeVisible();
  const step = page.getByLabel("Next step");
  await expect(step).toContainText("Scan an item");

  await wedge(page, cap);
  await expect(page.getByRole("alert")).toHaveText(`✗ ${cap} is not on this delivery. Set it aside and tell your lead, or receive it blind.`);
  await wedge(page, tee);
  await expect(step).toContainText(`1 × ${tee}`);
  await wedge(page, "9");
  await expect(page.getByRole("alert")).toContainText(`Only 5 more of ${tee} are expected on this delivery`);
  await wedge(page, "3");
  await expect(step).toContainText(`3 × ${tee}`);
  await wedge(page, "A-01-01");
  await expect(page.getByRole("status").first()).toHaveText(`✓ Put 3 × ${tee} into A-01-01. 3 of 5 received. Scan the next item.`);

  // The mug by its GS1-128 label, which carries lot and expiry.
  await wedge(page, `(01)0${gtin}(17)271231(10)LOT9`);
  await expect(step).toContainText("Lot LOT9, expires 2027-12-31");
  await wedge(page, mug);
  await expect(step).toContainText(`2 × ${mug}`);
  await wedge(page, "B-01-01");
  await expect(page.getByRole("status").first()).toHaveText(`✓ Put 2 × ${mug} (lot LOT9) into B-01-01. 2 of 2 received. Scan the next item.`);
  await expect(page.getByText("5 of 7 units received")).toBeVisible();
  const puts = page.getByRole("table", { name: "Put away, newest first" });
  await expect(puts.getByRole("row")).toHaveCount(3);
  await expect(puts.getByRole("row").nth(1)).toContainText("B-01-01");

  await page.getByText("Close delivery", { exact: true }).first().click();
  await expect(page.getByText("2 announced units not received will be recorded short.")).toBeVisible();
  const closed = page.waitForEvent("load");
  await page.getByRole("button", { name: `Close delivery ${delivery.number}` }).click();
  await closed;
  await expect(page.getByRole("status").first()).toHaveText(`✓ Delivery ${delivery.number} closed with 2 units short.`);
  await expect(page.getByLabel(/^Scan/)).toHaveCount(0);

  const stock = await ok(page.request.get(`/api/v1/stock/${tee}`), 200);
  expect(stock.on_hand).toBe(3);
  expect(stock.reserved).toBe(1);
  const after = await ok(page.request.get(`/api/v1/orders/${order.id}`), 200);
  expect(after.lines[0].backordered_quantity).toBe(0);
  expect(after.fulfillments).toHaveLength(1);
});

test("a blind receipt takes whatever arrived, counted as it is scanned", async ({ page }, info) => {
  await signIn(page, ADMIN, "/floor");
  const u = "R" + floorCode(info.project.name) + "B";
  const { wh, cap } = await dock(page.request, u, info.project.name, 1);
  await openReceiving(page, wh);
  await expect(page.getByText("No delivery is expected.")).toBeVisible();
  await page.getByLabel("Supplier (if known)").fill("Walk-in courier");
  await page.getByRole("button", { name: "Start blind receipt" }).click();
  await expect(page).toHaveURL(/\/floor\/receive\/[0-9a-f-]+$/);
  await expect(page.getByText(/DL-\d+ · .* · Blind receipt/)).toBeVisible();
  await expect(page.getByText("Nothing received yet.")).toBeVisible();
  // Scanning each unit: three scans of the cap make three.
  await wedge(page, cap);
  await wedge(page, cap);
  await wedge(page, cap);
  await expect(page.getByLabel("Next step")).toContainText(`3 × ${cap}`);
  await wedge(page, "B-01-01");
  await expect(page.getByRole("status").first()).toHaveText(`✓ Put 3 × ${cap} into B-01-01. Scan the next item.`);
  const received = page.getByRole("table", { name: "Received" });
  await expect(received.getByRole("row").nth(1)).toContainText(`${cap}`);
  await expect(received.getByRole("row").nth(1)).toContainText("3");
  const stock = await ok(page.request.get(`/api/v1/stock/${cap}`), 200);
  expect(stock.on_hand).toBe(3);
  // Without the Barcode Detection API (headless Chromium on Linux has
  // none), no camera button is offered.
  await expect(page.getByRole("button", { name: "Camera" })).toBeHidden();
});

test("where the browser reads barcodes, the camera button scans into the form", async ({ page }, info) => {
  test.skip(!jsEnabled(info), "camera scanning runs in the browser's JavaScript");
  // Chromium on Linux has no Barcode Detection API and the test has no
  // camera: both are stood in for, and the stand-in reads whatever code
  // the test puts in window.__camera_code.
  // Plain JavaScript, so nothing the test runner adds to compiled
  // TypeScript reaches the page.
  await page.addInitScript({
    content: `
      window.BarcodeDetector = class {
        static async getSupportedFormats() { return ["code_128", "ean_13"]; }
        async detect() {
          const code = window.__camera_code;
          window.__camera_code = undefined;
          return code ? [{ rawValue: code, format: "code_128" }] : [];
        }
      };
      navigator.mediaDevices.getUserMedia = async () => {
        const canvas = document.createElement("canvas");
        canvas.width = 64;
        canvas.height = 48;
        canvas.getContext("2d").fillRect(0, 0, 64, 48);
        return canvas.captureStream(5);
      };`,
  });
  await signIn(page, ADMIN, "/floor");
  const u = "R" + floorCode(info.project.name) + "C";
  const { wh, cap } = await dock(page.request, u, info.project.name, 2);
  await openReceiving(page, wh);
  await page.getByRole("button", { name: "Start blind receipt" }).click();
  await expect(page).toHaveURL(/\/floor\/receive\/[0-9a-f-]+$/);
  const camera = page.getByRole("button", { name: "Camera" });
  await expect(camera).toBeVisible();
  await camera.click();
  await expect(page.getByRole("dialog", { name: "Camera scanner" })).toBeVisible();
  const answered = page.waitForEvent("load");
  await page.evaluate((code) => ((window as unknown as { __camera_code: string }).__camera_code = code), cap);
  await answered;
  await expect(page.getByLabel("Next step")).toContainText(`1 × ${cap}`);
  await expect(page.getByRole("status").first()).toContainText(`1 × ${cap} ready`);
});

test("with the network down at the dock, receiving scans queue on the device and put away once, in order, when it returns", async ({ page, context }, info) => {
  test.skip(!jsEnabled(info), "the offline queue lives in the browser's JavaScript");
  await signIn(page, ADMIN, "/floor");
  const u = "R" + floorCode(info.project.name) + "O";
  const { wh, cap } = await dock(page.request, u, info.project.name, 3);
  await openReceiving(page, wh);
  await page.getByRole("button", { name: "Start blind receipt" }).click();
  await expect(page).toHaveURL(/\/floor\/receive\/[0-9a-f-]+$/);
  const id = new URL(page.url()).pathname.split("/").pop()!;
  await expect(page.locator("body[data-scan-queue=ready]")).toHaveCount(1);

  await context.setOffline(true);
  const scan = page.getByLabel("Scan");
  for (const [i, code] of [cap, "2", "A-01-01"].entries()) {
    await scan.pressSequentially(code);
    await scan.press("Enter");
    await expect(page.getByRole("status").filter({ hasText: `${i + 1} scan${i ? "s" : ""} waiting to sync` })).toBeVisible();
    await expect(scan).toHaveValue("");
  }
  const synced = page.waitForEvent("load");
  await context.setOffline(false);
  await synced;
  await expect(page.getByRole("status").first()).toHaveText(`✓ Synced 3 queued scans. Put 2 × ${cap} into A-01-01. Scan the next item.`);
  await expect(page.getByText(/waiting to sync/)).toHaveCount(0);
  const delivery = await ok(page.request.get(`/api/v1/deliveries/${id}`), 200);
  expect(delivery.puts).toHaveLength(1);
  expect(delivery.units_received).toBe(2);
  expect((await ok(page.request.get(`/api/v1/stock/${cap}`), 200)).on_hand).toBe(2);
});
