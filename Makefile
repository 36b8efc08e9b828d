# The two commands of the quick start; the steps live in scripts/.
.PHONY: run test
run:   ## set everything up and start the app with the demo county
	scripts/run.sh
test:  ## set everything up and run the whole test suite (SQLite, PostgreSQL, Chromium)
	scripts/test.sh
