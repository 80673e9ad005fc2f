"""Finding a recall's buyers in the purchase lines and building their cases."""
