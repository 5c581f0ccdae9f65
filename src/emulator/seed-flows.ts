/**
 * The demo seed's flows, so that List Flows, Get Flow and Update Flow Status have something to show at once
 * (Klaviyo's API of this revision can create flows only from a full encoded definition, which the emulator does
 * not take): a live welcome series on the Newsletter list, a manual abandoned cart, a draft browse abandonment
 * and an archived winback.
 */
import { insertFlow } from "./resources/flows-model.js";
import { findMetricByName } from "./resources/metrics-model.js";
import type { EmulatorState } from "./state.js";

const email = (name: string, subject: string, status: string) => ({
  type: "send-email",
  data: {
    status,
    message: {
      name,
      subject_line: subject,
      preview_text: null,
      from_email: "hello@harborandpine.example",
      from_label: "Harbor & Pine",
      reply_to_email: null,
      cc_email: null,
      bcc_email: null,
      template_id: null,
      smart_sending_enabled: true,
      transactional: false,
      add_tracking_params: false,
      custom_tracking_params: null,
      additional_filters: null,
    },
  },
});

const delay = (value: number, unit: "days" | "hours") => ({
  type: "time-delay",
  data: {
    unit,
    value,
    secondary_value: null,
    timezone: "profile",
    delay_until_time: null,
    delay_until_weekdays: null,
  },
});

/** Adds the demo's four flows; `newsletterListId` triggers the welcome series. Returns their ids. */
export function seedFlows(state: EmulatorState, newsletterListId: string, now = Date.now()): string[] {
  const metric = (name: string) => findMetricByName(state, name)?.id ?? null;
  const day = 86_400_000;
  return [
    insertFlow(
      state,
      {
        name: "Welcome Series",
        status: "live",
        triggerType: "Added to List",
        trigger: { type: "list", id: newsletterListId },
        actions: [
          email("Welcome 1", "Welcome to Harbor & Pine", "live"),
          delay(2, "days"),
          email("Welcome 2", "Our favourite trail gear", "live"),
        ],
        created: now - 90 * day,
      },
      now,
    ),
    insertFlow(
      state,
      {
        name: "Abandoned Cart",
        status: "manual",
        triggerType: "Metric",
        trigger: { type: "metric", id: metric("Added to Cart"), trigger_filter: null },
        actions: [delay(4, "hours"), email("Cart reminder", "You left something behind", "manual")],
        created: now - 60 * day,
      },
      now,
    ),
    insertFlow(
      state,
      {
        name: "Browse Abandonment",
        status: "draft",
        triggerType: "Metric",
        trigger: { type: "metric", id: metric("Viewed Product"), trigger_filter: null },
        actions: [delay(1, "days"), email("Still looking?", "Still thinking it over?", "draft")],
        created: now - 30 * day,
      },
      now,
    ),
    insertFlow(
      state,
      {
        name: "Winback 2024",
        status: "draft",
        archived: true,
        triggerType: "Date Based",
        actions: [email("We miss you", "It has been a while", "draft")],
        created: now - 400 * day,
      },
      now,
    ),
  ].map((row) => row.id);
}
