import { defineConfig } from "@playwright/test";

// Every journey runs at three sizes, each with JavaScript off (server-rendered
// HTML and plain forms) and on (hydrated). Debian's Chromium is used; Playwright
// never downloads a browser here.
const port = Number(process.env.KEEL_E2E_PORT ?? 3100);
const chromium = {
  browserName: "chromium" as const,
  launchOptions: {
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  },
};
const sizes = {
  desktop: { viewport: { width: 1280, height: 800 } },
  tablet: { viewport: { width: 1024, height: 768 }, hasTouch: true },
  phone: { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true },
};

export default defineConfig({
  testDir: "end2end/tests",
  outputDir: "end2end/test-results",
  fullyParallel: true,
  workers: 2,
  retries: 0,
  reporter: [["list"]],
  // The journeys' setup calls (page.request) are scripts on Keel's own
  // pages: they say so with Origin, as the browser does for its own posts,
  // so the cross-site guard lets their session cookie through.
  use: { baseURL: `http://127.0.0.1:${port}`, trace: "off", extraHTTPHeaders: { origin: `http://127.0.0.1:${port}` } },
  projects: Object.entries(sizes).flatMap(([name, size]) => [
    { name: `${name}-js`, use: { ...chromium, ...size, javaScriptEnabled: true } },
    { name: `${name}-nojs`, use: { ...chromium, ...size, javaScriptEnabled: false } },
  ]),
  webServer: {
    command: "scripts/e2e-server.sh",
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: { KEEL_E2E_PORT: String(port) },
  },
});
