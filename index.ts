// The stack: reads and validates this environment's configuration, then declares the service's
// whole delivery path. No resource logic lives here.
import { loadStackConfig, secretSetting } from "./config/load";
import { secretSettings, type SecretKey } from "./config/schema";
import { CanaryPipeline } from "./components/canary-pipeline";

export = () => {
  const config = loadStackConfig();
  const secrets = Object.fromEntries(
    (Object.keys(secretSettings) as SecretKey[]).flatMap((key) => (config.secrets[key] ? [[key, secretSetting(key)!]] : [])),
  );
  const pipeline = new CanaryPipeline(config.appName, { config, secrets });
  return { urn: pipeline.urn };
};
