// Imported first by unit tests: fabric-contract-api logs every decorator at `info` unless told otherwise.
process.env['CORE_CHAINCODE_LOGGING_LEVEL'] ??= 'error';
export {};
