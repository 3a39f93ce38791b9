"""Where trials run: the executors (`inline`, `local`, `ray`, chosen by name through
`registry.make_executor`), the worker path they share (`worker.run_remote`) and what they
exchange with the campaign (`protocol`). Nothing here talks to Ax or MLflow."""
