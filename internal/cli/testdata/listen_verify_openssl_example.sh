WEBHOOK_SECRET='whsec_INEJsZiu4gyRArnGD/iVewWyBY7ZVpcqJMijUXVzRnE='
WEBHOOK_ID='evt_01JDQ8C2D4F6G8H0J2K4M6N8P0'
WEBHOOK_TIMESTAMP='1795783278'
WEBHOOK_SIGNATURE='v1,llgY4jMlKTiyLxd8ga7los/6aO5/3k0DBLsgnPrNngE='
printf '%s' '{"id":"evt_01JDQ8C2D4F6G8H0J2K4M6N8P0","event":"sms.received","timestamp":"2026-11-27T12:41:17.512Z","account_id":"acc_01JDQ7XW2E5F8G1H4J7K0M3N6P","data":{"message_id":"msg_01JDQ8C1B3D5F7H9K1M3P5R7T9","from":{"number":"+14155550123","name":"Dana Whitfield"},"to":{"number":"+14155550100"},"received_at":"2026-11-27T12:41:17.000Z","body":"Is the refund through yet?","media":[]}}' > body.json
NOW=1795783280 # two seconds after it was signed; leave NOW unset to use the clock
