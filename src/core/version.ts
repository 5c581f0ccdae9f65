/** The package's name and version, sent in `User-Agent` (a test checks them against package.json). */
export const PACKAGE_NAME = "klaviyo-connector";
export const PACKAGE_VERSION = "0.1.0";
/** The Klaviyo API revision this release is built and tested against. */
export const DEFAULT_REVISION = "2026-07-15";
export const DEFAULT_BASE_URL = "https://a.klaviyo.com";
