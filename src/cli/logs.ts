// How a long-running command logs on stderr: human-readable lines on a terminal (pino-pretty), one JSON
// object per line otherwise or when asked (`--log-json`), for log collectors. stdout stays the command's
// machine-readable output either way.
import { pino } from "pino";
import pretty from "pino-pretty";

export type LogFormat = "auto" | "json" | "pretty";
export const LOG_FORMATS = ["auto", "json", "pretty"] as const;

/** A logger on stderr in `format` (`auto`: pretty when stderr is a terminal). */
export function stderrLogger(level: string, format: LogFormat = "auto"): pino.Logger {
  const human = format === "pretty" || (format === "auto" && process.stderr.isTTY === true);
  if (!human) return pino({ level }, pino.destination({ dest: 2, sync: true }));
  return pino(
    { level },
    pretty({
      destination: 2,
      sync: true,
      colorize: process.stderr.isTTY === true,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname",
    }),
  );
}
