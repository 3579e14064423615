// The rollback notice: a Slack message when a webhook is configured, with a link to the run.
import { actions, uses } from "../actions";
import { expression } from "../links";
import type { Step } from "../model";
import { slackWebhookSecret } from "../names";
import { cleanupMinutes, type DeployConfig } from "./plan";

/** A Slack message that `what` happened, under `condition` (none without a webhook). */
export function slackNotice(
  config: Pick<DeployConfig, "secrets" | "appName" | "environment">,
  what: string,
  condition: string,
): Step[] {
  if (!config.secrets.slackWebhook) return [];
  const run = `${expression("github.server_url")}/${expression("github.repository")}/actions/runs/${expression("github.run_id")}`;
  return [
    {
      name: "Notify Slack of the rollback",
      if: condition,
      // It may run after a cancellation: bounded like every clean-up step.
      "timeout-minutes": cleanupMinutes.notice,
      uses: uses(actions.slack),
      with: {
        webhook: expression(`secrets.${slackWebhookSecret}`),
        "webhook-type": "incoming-webhook",
        payload: [
          `text: ":rotating_light: ${config.appName}: ${what}."`,
          "blocks:",
          "  - type: section",
          "    text:",
          "      type: mrkdwn",
          `      text: ":rotating_light: *${config.appName}* in *${config.environment}*: ${what}. <${run}|Run ${expression("github.run_id")}>"`,
        ].join("\n"),
      },
    },
  ];
}
