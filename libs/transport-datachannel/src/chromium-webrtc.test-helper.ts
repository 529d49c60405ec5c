/**
 * Headless Chromium that can do WebRTC over loopback. Without these flags Chromium offers only
 * mDNS-obfuscated host candidates on the default-route interface, never 127.0.0.1. Loopback
 * candidates need `--allow-loopback-in-peer-connection` plus permission to enumerate interfaces,
 * which a (fake) microphone grant gives.
 */
import type { Page } from 'playwright-core';
import type { Connector } from '@switchyard/protocol';
import { openBrowserBridge, WEBRTC_FLAGS } from '@switchyard/testing';

/** A bridge page with loopback WebRTC unlocked. */
export interface WebRtcPage extends AsyncDisposable {
  readonly page: Page;
  /** Console lines, for failure messages. */
  readonly console: string[];
  /** Pipes the page opens with its `installBridge` factory for `target`, relayed to Node. */
  connector(target: string): Connector;
}

/** Bundles `entry`, serves it from 127.0.0.1 (a secure context) and opens it in Chromium. */
export async function openWebRtcPage(entry: string): Promise<WebRtcPage> {
  const bridge = await openBrowserBridge(entry, { launchArgs: WEBRTC_FLAGS });
  const { page, console } = bridge.browser;
  await page.evaluate(async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    for (const track of stream.getTracks()) track.stop();
  });
  return {
    page,
    console,
    connector: (target) => bridge.connector(target),
    [Symbol.asyncDispose]: () => bridge[Symbol.asyncDispose](),
  };
}
