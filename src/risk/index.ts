export * from "./concentration.js";
export * from "./fraction.js";
export * from "./outage.js";
export * from "./report.js";
export * from "./restaking.js";
export * from "./types.js";
