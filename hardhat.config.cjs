// Base Hardhat config for the devnets. Chain id and mining are set per chain by src/devnet/chain.ts.
/** @type {import('hardhat/config').HardhatUserConfig} */
module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "cancun",
      allowUnlimitedContractSize: false,
      loggingEnabled: false,
    },
  },
};
