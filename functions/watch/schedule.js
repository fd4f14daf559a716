'use strict';
/**
 * The watch's EventBridge schedule, from the stage param watchPeriodMinutes
 * (serverless.yml: `${file(./functions/watch/schedule.js):watchSchedule}`).
 * A rate expression needs the singular unit for 1 and the plural above it
 * (EventBridge, rate expressions reference: "If the value is equal to 1, then
 * the unit must be singular. If the value is greater than 1, the unit must be
 * plural"), which a param pasted into `rate(${...} minutes)` cannot give.
 */

/** The rate expression for a period of `minutes` (1-1440, as lib/config/watch.ts reads WATCH_PERIOD_MINUTES). */
function rateOfMinutes(minutes) {
  const text = String(minutes).trim();
  if (!/^[1-9][0-9]*$/.test(text) || Number(text) > 1440) {
    throw new Error(`watchPeriodMinutes must be a whole number of minutes, 1-1440, got ${JSON.stringify(text)}`);
  }
  const value = Number(text);
  return value === 1 ? 'rate(1 minute)' : `rate(${value} minutes)`;
}

/** osls calls it with its variable resolver (a function export of a ${file(...)} source). */
async function watchSchedule({ resolveVariable }) {
  return rateOfMinutes(await resolveVariable('param:watchPeriodMinutes'));
}

module.exports = { rateOfMinutes, watchSchedule };
