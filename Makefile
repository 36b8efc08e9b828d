# The commands of the quick start and of a deployment; the steps live in scripts/.
.PHONY: run serve test
run:   ## set everything up and open the demo county (its own files under data/demo/, never data/xueji.db)
	scripts/run.sh
serve: ## deploy: install without test tools, create or upgrade data/xueji.db (or XUEJI_DATABASE_URL), start the app; never the demo
	scripts/serve.sh
test:  ## set everything up and run the whole test suite (SQLite, PostgreSQL, Chromium)
	scripts/test.sh
