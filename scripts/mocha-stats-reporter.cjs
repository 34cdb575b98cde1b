// @ts-check
// Mocha reporter: the usual spec output, plus the run's counts written as JSON to $THREADSEAL_STATS_FILE
// so scripts/run-tests.mjs can print one summary line for the whole suite.
'use strict';
const { writeFileSync } = require('node:fs');
const Mocha = require('mocha');

const { EVENT_RUN_END } = Mocha.Runner.constants;

class StatsReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.THREADSEAL_STATS_FILE;
      if (!file) return;
      const { passes, failures, pending, tests } = runner.stats ?? this.stats;
      writeFileSync(file, JSON.stringify({ passes, failures, pending, tests }));
    });
  }
}

module.exports = StatsReporter;
