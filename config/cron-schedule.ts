// A GitHub Actions schedule (`on.schedule[].cron`): five POSIX cron fields, in UTC, with the
// operators `*` `,` `-` `/` (GitHub docs, "Events that trigger workflows", schedule; its
// non-standard @daily and the like are not supported). Whether each field holds a value the field
// can take (an hour of 25, a 31st of February) is judged by cron-parser, a maintained parser.
import { CronExpressionParser } from "cron-parser";

const fieldNames = ["minute", "hour", "day-of-month", "month", "day-of-week"] as const;
// Numbers, three-letter names (MON, JAN) and GitHub's four operators: cron-parser's extensions
// (L, W, #, ?, H) are not POSIX, and GitHub would refuse them.
const value = "([0-9]+|[A-Za-z]{3})";
const item = `(\\*|${value}(-${value})?)(\\/[0-9]+)?`;
const posixField = new RegExp(`^${item}(,${item})*$`);

const parses = (expression: string): string | undefined => {
  try {
    CronExpressionParser.parse(expression, { tz: "UTC" });
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
};

/** Why `schedule` is not a five-field cron expression GitHub runs, or undefined. */
export function cronProblem(schedule: string): string | undefined {
  const fields = schedule.trim() === "" ? [] : schedule.trim().split(/\s+/);
  if (fields.length !== 5)
    return `has ${fields.length === 0 ? "no fields" : fields.length === 1 ? "one field" : `${fields.length} fields`}, not five`;
  const bad = fields.findIndex((f) => !posixField.test(f));
  if (bad >= 0) return `its ${fieldNames[bad]} field ${fields[bad]} uses more than * , - / and values`;
  // Each field alone, the others `*`: names the field that is out of range.
  for (const [i, field] of fields.entries()) {
    const why = parses(fields.map((f, j) => (j === i ? f : "*")).join(" "));
    if (why !== undefined) return `its ${fieldNames[i]} field ${field} is refused (${why})`;
  }
  // Together: a day that no month has (31 2) never runs.
  const why = parses(schedule);
  return why === undefined ? undefined : `it never runs (${why})`;
}
