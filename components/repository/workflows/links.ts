// Typed links between the parts of a workflow: a value one step (or job) declares and another
// consumes is one TypeScript value, so renaming it is a compile error rather than a broken run (as
// cdk-pipelines-github's JobStepOutput). Each renders the text GitHub and bash expect.

/** `${{ expression }}`: an expression where the workflow's YAML expects text. */
export const expression = (text: string) => `\${{ ${text} }}`;

/**
 * A variable of a job's environment: given by the workflow's or the job's `env:`, or written by a
 * step to $GITHUB_ENV for the job's later steps (GitHub docs, "Setting an environment variable").
 */
export class EnvVariable {
  constructor(readonly name: string) {}
  /** As a script reads it: `$NAME`. */
  get ref(): string {
    return `$${this.name}`;
  }
  /** As a script reads it where a name character may follow: `${NAME}`. */
  get braced(): string {
    return `\${${this.name}}`;
  }
  /** `env.NAME`, for an expression. */
  get expression(): string {
    return `env.${this.name}`;
  }
  /** The line of a script that sets it for the job's later steps; `value` as the shell writes it. */
  write(value: string): string {
    return `echo "${this.name}=${value}" >> "$GITHUB_ENV"`;
  }
}

/** A step's output, declared by its action or written by its script to $GITHUB_OUTPUT. */
export class StepOutput {
  constructor(
    readonly step: StepId,
    readonly name: string,
  ) {}
  /** `steps.<id>.outputs.<name>`, for an expression. */
  get expression(): string {
    return `steps.${this.step.id}.outputs.${this.name}`;
  }
  /** The line of the step's script that sets it; `value` as the shell writes it. */
  write(value: string): string {
    return `echo "${this.name}=${value}" >> "$GITHUB_OUTPUT"`;
  }
}

/** The lines of a script that set several outputs of its step at once (one redirect: shellcheck's SC2129). */
export function writeOutputs(values: readonly (readonly [StepOutput, string])[]): string[] {
  return ["{", ...values.map(([output, value]) => `  echo "${output.name}=${value}"`), '} >> "$GITHUB_OUTPUT"'];
}

/** A step's id: what later steps of its job read of it. */
export class StepId {
  constructor(readonly id: string) {}
  /** `steps.<id>.outcome`: success, failure, cancelled or skipped, before continue-on-error. */
  get outcome(): string {
    return `steps.${this.id}.outcome`;
  }
  output(name: string): StepOutput {
    return new StepOutput(this, name);
  }
}

/** A job's id: what the jobs that need it read of it. */
export class JobId {
  constructor(readonly id: string) {}
  /** `needs.<id>.result`: success, failure, cancelled or skipped. */
  get result(): string {
    return `needs.${this.id}.result`;
  }
  /** `needs.<id>.outputs.<name>`, for an expression. */
  output(name: string): string {
    return `needs.${this.id}.outputs.${name}`;
  }
}

/** The ids of a list of jobs, for `needs:`. */
export const needs = (...jobs: readonly JobId[]) => jobs.map((j) => j.id);
