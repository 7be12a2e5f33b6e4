"""What every layer may use: errors, config, resources, files, memory, ids, the version and the
engines that run functions over items. Imports nothing else of the package."""
